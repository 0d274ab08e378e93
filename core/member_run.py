"""An ensemble run: the K members of a plan with ``train.members`` > 1, trained as one model
(:mod:`core.members`, :mod:`core.member_training`) and evaluated in one pass.

The run's predictions and parameters are the members' mean with ``<name>_sd`` beside each;
metrics.json holds the ensemble mean's metrics, every member's own (``members``, each as a
single run's metrics.json) and their mean ± sd (``member_summary``), the learned globals with
their spread over members (``globals``), each member's epochs (``member_epochs``) and the members
whose validation KGE lies far below the others' (``outlier_members``, :mod:`core.member_summary`).
A member whose loss became non-finite is named in ``failed_members`` and left out; the others
finish.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from .datasets import HybridData
from .errors import DivergenceError
from .evaluation import run_metrics, snapshot_of
from .member_summary import member_epochs, member_globals, outlier_records
from .member_training import MembersResult
from .members import MemberModel, ensemble_mean, member_output
from .metrics import spread
from .models import build_model
from .tensors import Tensors
from .training import GLOBAL_GENERATOR, HistoryColumns, TrainResult, predict


def build_members(model_config: dict, seeds: list[int], train_tensors: Tensors) -> MemberModel:
    """One model per seed, each initialised exactly as a single run with that seed, stacked."""
    models = []
    for seed in seeds:
        with GLOBAL_GENERATOR:
            torch.manual_seed(seed)
            model = build_model(model_config)
        model.set_normalization(train_tensors.x, train_tensors.forcing, train_tensors.y)
        models.append(model)
    return MemberModel(models)


def epoch_row(rows: list[dict]) -> dict:
    """One row for an ensemble's epoch (what progress bars and live views show), from the latest
    history row of every member (``training``: whether it trains on; a stopped member's row is
    its last): the members' median of each real number, the largest of each count (epoch, best
    epoch), how many members there are (``members``) and how many still train
    (``members_training``). The median of all members, stopped ones included, does not jump
    when a member stops, as the mean of those still training would."""
    row: dict = {"members": len(rows), "members_training": sum(bool(r.get("training", True)) for r in rows)}
    for key, value in rows[0].items():
        if key in ("member", "seed") or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        values = [r.get(key, math.nan) for r in rows]
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        if isinstance(value, int):
            row[key] = max(values)
        else:
            row[key] = float(np.median(finite)) if finite else math.nan
    return row


def _failure(k: int, seed: int, result: TrainResult, targets: list[str]) -> dict:
    row = result.history[-1] if result.history else {}
    went = [t for t in targets if not (math.isfinite(row.get(HistoryColumns.train_loss(t), 0.0))
                                       and math.isfinite(row.get(HistoryColumns.val_loss(t), 0.0)))]
    what = f"the loss of target(s) {', '.join(went)}" if went else "the loss"
    return {"member": k, "seed": seed, "epoch": int(row.get("epoch", 0)),
            "error": f"member {k} (seed {seed}) diverged at epoch {row.get('epoch', 0)}: {what} became NaN or "
                     f"infinite; left out of the ensemble"}


def _combined(outcome: MembersResult, seeds: list[int], kept: list[int]) -> TrainResult:
    """The ensemble's training record: every member's history rows (with ``member`` and ``seed``),
    the latest best epoch and the reason of the member that trained longest."""
    history = [{"member": k, "seed": seeds[k], **row} for k, result in enumerate(outcome.members)
               for row in result.history]
    longest = max(kept, key=lambda k: outcome.members[k].epochs_run)
    return TrainResult(history, max(outcome.members[k].best_epoch for k in kept),
                       max(r.epochs_run for r in outcome.members), outcome.seconds, outcome.members[longest].stopped)


def _summary(members: list[dict], targets: list[str]) -> dict:
    """Mean ± sd over members of the validation KGE (overall and per target)."""
    summary = {"mean_val_kge": spread([m["mean_val_kge"] for m in members]).as_dict("n", "mean", "sd")}
    for target in targets:
        values = [((m["targets"].get(target) or {}).get("val") or {}).get("kge", math.nan) for m in members]
        summary[f"val_kge_{target}"] = spread(values).as_dict("n", "mean", "sd")
    return summary


def finish_members(model: MemberModel, outcome: MembersResult, *, plan, data: HybridData, everything: Tensors,
                   targets: list[str], train_rows: np.ndarray, val_rows: np.ndarray,
                   calibration_rows: np.ndarray | None = None) -> tuple:
    """Evaluate every member and the ensemble on all rows.

    Returns
    -------
    tuple
        (the ensemble's Snapshot, its metrics.json, the members' parameters and predictions as one
        long table (``member``, ``seed``, ``id``, ``split``, parameters, ``<target>_pred``), the
        combined TrainResult).
    """
    seeds = plan.train.member_seeds
    failed = [_failure(k, seeds[k], r, targets) for k, r in enumerate(outcome.members) if r.stopped == "diverged"]
    kept = [k for k in range(len(seeds)) if k not in {f["member"] for f in failed}]
    if not kept:
        raise DivergenceError(f"all {len(seeds)} members diverged ({failed[0]['error']}); no model saved. Try a smaller "
                              f"learning rate, other bounds, or check the data for extreme values")
    out = predict(model, everything)
    spec, parameter_set = plan.spec, plan.parameter_set()
    members, tables = [], []
    for k in kept:
        snapshot = snapshot_of(member_output(out, k), data, everything.y, targets, train_rows=train_rows,
                               val_rows=val_rows, epoch=outcome.members[k].best_epoch,
                               calibration_rows=calibration_rows)
        own = replace(plan, train=replace(plan.train, seed=seeds[k], members=1))
        metrics = run_metrics(spec, parameter_set, snapshot, data, own, outcome.members[k], train_rows=train_rows,
                              val_rows=val_rows)
        members.append({"member": k, **metrics})
        predicted = snapshot.predictions[[f"{t}_pred" for t in targets]]
        tables.append(pd.concat([snapshot.parameters, predicted], axis=1).assign(member=k, seed=seeds[k]))
    mean, sd = ensemble_mean(out, targets, kept)
    result = _combined(outcome, seeds, kept)
    final = snapshot_of(mean, data, everything.y, targets, train_rows=train_rows, val_rows=val_rows,
                        epoch=result.best_epoch, spread=sd, calibration_rows=calibration_rows)
    metrics = run_metrics(spec, parameter_set, final, data, plan, result, train_rows=train_rows, val_rows=val_rows)
    metrics.update(members=members, member_summary=_summary(members, targets), failed_members=failed,
                   globals=member_globals(metrics["globals"], members), member_epochs=member_epochs(members),
                   outlier_members=outlier_records(members))
    table = pd.concat(tables, ignore_index=True)
    table = table[["member", "seed"] + [c for c in table.columns if c not in ("member", "seed")]]
    return final, metrics, table, result


__all__ = ["build_members", "epoch_row", "finish_members"]
