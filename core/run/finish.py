"""How every run ends, from one model to an ensemble: :func:`build_members` stacks the K
models of a plan (K = 1 for a single run) as :mod:`core.training.loop` trains them, and
:func:`finish_run` evaluates the trained stack in one pass and says what the run is.

A single run (``train.members`` = 1) is its one member: the plain model, its predictions,
parameters and metrics, as a single run has always had them. An ensemble's predictions and
parameters are the members' mean with ``<name>_sd`` beside each; metrics.json holds the ensemble
mean's metrics, every member's own (``members``, each as a single run's metrics.json) and their
mean ± sd (``member_summary``), the learned globals with their spread over members
(``globals``), each member's epochs (``member_epochs``) and the members whose validation KGE lies
far below the others' (``outlier_members``, :mod:`core.run.summary`). A member whose loss
became non-finite is named in ``failed_members`` and left out; the others finish.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch

from core.datasets import HybridData
from core.errors import DivergenceError
from core.run.evaluation import Snapshot, run_metrics, snapshot_of
from core.run.summary import member_epochs, member_globals, outlier_records
from core.hybrid.members import MemberModel, ensemble_mean, member_output
from core.metrics import spread
from core.models import build_model
from core.training.tensors import Tensors
from core.training.loop import GLOBAL_GENERATOR, HistoryColumns, MembersResult, TrainResult, own_row, predict


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
    when a member stops, as the mean of those still training would. A single run's one row is
    its own (without ``member`` and ``training``)."""
    if len(rows) == 1:
        return own_row(rows[0])
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


def divergence_message(history: list[dict], model) -> str:
    """Which epoch diverged and what went first: the targets whose loss became non-finite, and any
    learned global value or network weight that did (``model``: the single model, at the weights
    training kept)."""
    row = history[-1]

    def finite(key: str) -> bool:
        return math.isfinite(row.get(key, 0.0))

    went = [t for t in model.targets if not (finite(HistoryColumns.train_loss(t)) and finite(HistoryColumns.val_loss(t)))]
    values = [name for name, value in model.global_values().items() if not math.isfinite(value)]
    weights = [name for name, tensor in model.named_parameters() if not torch.isfinite(tensor).all()]
    parts = [f"the loss of target(s) {', '.join(went)}" if went else "the loss"]
    if values:
        parts.append(f"global parameter(s) {', '.join(values)}")
    if weights:
        parts.append(f"{len(weights)} weight tensor(s) (first {weights[0]})")
    return (f"training diverged at epoch {row['epoch']}: {' and '.join(parts)} became NaN or infinite; no model "
            f"saved. Try a smaller learning rate, other bounds, or check the data for extreme values")


@dataclass
class Finished:
    """A trained run evaluated on every row.

    Parameters
    ----------
    model : torch.nn.Module
        A single run's model (a plain :class:`~core.hybrid.model.TrainableModel`), or the stack of the
        ensemble's members that finished.
    snapshot : Snapshot
        The run's predictions, parameters and metrics per target (an ensemble's: the members' mean).
    metrics : dict
        What metrics.json holds.
    members_table : pandas.DataFrame or None
        An ensemble's parameters and predictions per member and site; None for a single run.
    result : TrainResult
        The training record (an ensemble's: every member's rows, with ``member`` and ``seed``).
    kept : list of int
        The members that finished (the others diverged).
    """

    model: torch.nn.Module
    snapshot: Snapshot
    metrics: dict
    members_table: pd.DataFrame | None
    result: TrainResult
    kept: list[int]


def _member(out, k: int, outcome: MembersResult, plan, data: HybridData, observed, rows: dict) -> tuple:
    """Member k's snapshot, its metrics.json (as its single run's) and its rows of members.parquet."""
    seeds, targets = plan.train.member_seeds, rows["targets"]
    snapshot = snapshot_of(member_output(out, k), data, observed, targets, train_rows=rows["train"],
                           val_rows=rows["val"], epoch=outcome.members[k].best_epoch, calibration_rows=rows["calibration"])
    own = replace(plan, train=replace(plan.train, seed=seeds[k], members=1))
    metrics = run_metrics(plan.spec, plan.parameter_set(), snapshot, data, own, outcome.members[k],
                          train_rows=rows["train"], val_rows=rows["val"])
    predicted = snapshot.predictions[[f"{t}_pred" for t in targets]]
    table = pd.concat([snapshot.parameters, predicted], axis=1).assign(member=k, seed=seeds[k])
    return snapshot, metrics, table


def _ensemble(out, each: list[tuple], outcome: MembersResult, plan, data: HybridData, observed, rows: dict,
              kept: list[int], failed: list[dict]) -> tuple:
    """An ensemble's snapshot (the members' mean, their sd beside it), metrics.json (the mean's,
    with every member's own and their summaries), members' table and training record."""
    seeds, targets = plan.train.member_seeds, rows["targets"]
    members = [{"member": k, **metrics} for k, (_, metrics, _) in zip(kept, each)]
    mean, sd = ensemble_mean(out, targets, kept)
    result = _combined(outcome, seeds, kept)
    final = snapshot_of(mean, data, observed, targets, train_rows=rows["train"], val_rows=rows["val"],
                        epoch=result.best_epoch, spread=sd, calibration_rows=rows["calibration"])
    metrics = run_metrics(plan.spec, plan.parameter_set(), final, data, plan, result, train_rows=rows["train"],
                          val_rows=rows["val"])
    metrics.update(members=members, member_summary=_summary(members, targets), failed_members=failed,
                   globals=member_globals(metrics["globals"], members), member_epochs=member_epochs(members),
                   outlier_members=outlier_records(members))
    table = pd.concat([table for _, _, table in each], ignore_index=True)
    table = table[["member", "seed"] + [c for c in table.columns if c not in ("member", "seed")]]
    return final, metrics, table, result


def finish_run(model: MemberModel, outcome: MembersResult, *, plan, data: HybridData, everything: Tensors,
               targets: list[str], train_rows: np.ndarray, val_rows: np.ndarray,
               calibration_rows: np.ndarray | None = None) -> Finished:
    """Evaluate the trained members on all rows: a single run as its one member, an ensemble as
    the members' mean beside each member's own.

    Parameters
    ----------
    model : MemberModel
        The trained stack (CPU), every member at its kept weights (:func:`core.training.loop.train_members`).
    outcome : MembersResult
        How each member's training went.
    plan : RunPlan
    data : HybridData
    everything : Tensors
        The tensors of every row of ``data``.
    targets : list of str
    train_rows, val_rows, calibration_rows : numpy.ndarray
        Row positions of the splits.

    Returns
    -------
    Finished
        The run's model, snapshot, metrics, members' table and training record.
    """
    seeds = plan.train.member_seeds
    if len(seeds) == 1 and outcome.members[0].stopped == "diverged":
        raise DivergenceError(divergence_message(outcome.members[0].history, model.member(0)))
    failed = [_failure(k, seeds[k], r, targets) for k, r in enumerate(outcome.members) if r.stopped == "diverged"]
    kept = [k for k in range(len(seeds)) if k not in {f["member"] for f in failed}]
    if not kept:
        raise DivergenceError(f"all {len(seeds)} members diverged ({failed[0]['error']}); no model saved. Try a smaller "
                              f"learning rate, other bounds, or check the data for extreme values")
    out = predict(model, everything)
    rows = {"train": train_rows, "val": val_rows, "calibration": calibration_rows, "targets": targets}
    each = [_member(out, k, outcome, plan, data, everything.y, rows) for k in kept]
    if len(seeds) == 1:
        snapshot, metrics, _ = each[0]
        return Finished(model.member(0), snapshot, metrics, None, outcome.members[0], kept)
    final, metrics, table, result = _ensemble(out, each, outcome, plan, data, everything.y, rows, kept, failed)
    if failed:
        model.keep(kept)
    return Finished(model, final, metrics, table, result, kept)


__all__ = ["Finished", "build_members", "divergence_message", "epoch_row", "finish_run"]
