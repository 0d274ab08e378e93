"""The one way a plan becomes a run: :func:`execute`.

    plan (RunPlan or its dict) -> load data -> split -> build the model -> train -> evaluate -> Run
                                                                          [-> run folder, core.store]

It loads the data itself (built-in sets are cached per process), so it can run in another
process or on another machine from the plan's dict alone. Callers follow a run through a
:class:`RunObserver`: progress bars (CLI), live views (dashboard), nothing (sweeps).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .calibration import add_interval_metrics, calibrate_run, interval_columns
from .datasets import HybridData, load_source
from .errors import DataError, DivergenceError
from .evaluation import Snapshot, evaluate, run_metrics
from .hybrid import TrainableModel
from .member_run import build_members, epoch_row, finish_members
from .member_training import train_members
from .models import build_model
from .network import check_weights
from .plan import RunPlan
from .run import Run
from .splits import hold_out_calibration, split_rows
from .training import GLOBAL_GENERATOR, HistoryColumns, Tensors, train
from .formatting import short_repr


@dataclass
class RunContext:
    """What an observer may look at while a run trains. :meth:`snapshot` evaluates the model on
    every row now (in the calling thread, which is the training thread during ``on_epoch``).

    Parameters
    ----------
    plan : RunPlan
    data : HybridData
    model : TrainableModel
    targets : list of str
    train_rows, val_rows : numpy.ndarray
        Row positions of the two splits.
    everything : Tensors
        The tensors of every row.
    calibration_rows : numpy.ndarray
        Rows held out to calibrate prediction intervals (empty: none).
    """

    plan: RunPlan
    data: HybridData
    model: TrainableModel
    targets: list[str]
    train_rows: np.ndarray
    val_rows: np.ndarray
    everything: Tensors
    calibration_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def snapshot(self, epoch: int) -> Snapshot:
        device = next(self.model.parameters()).device
        if self.everything.x.device != device:
            self.everything = self.everything.to(device)
        return evaluate(self.model, self.data, self.everything, self.targets, train_rows=self.train_rows,
                        val_rows=self.val_rows, epoch=epoch, calibration_rows=self.calibration_rows)


class RunObserver:
    """Hooks into a run; override what you need. All are called in the thread that runs
    :func:`execute`. ``on_epoch`` receives each history row; ``on_finish`` the evaluated run
    (the model holds the weights of the best epoch)."""

    def on_start(self, context: RunContext) -> None:
        pass

    def on_epoch(self, row: dict, context: RunContext) -> None:
        pass

    def on_finish(self, run: Run, context: RunContext) -> None:
        pass


def load_plan_data(plan: RunPlan) -> HybridData:
    """The data a plan names, restricted to its predictors if it lists them.

    Parameters
    ----------
    plan : RunPlan
        The plan whose ``data`` block names a built-in set or a file with its column map.

    Returns
    -------
    HybridData
        Built-in sets are cached per process: treat the frame as read-only.
    """
    spec = plan.spec
    data = load_source(plan.data.to_dict(), nonnegative=spec.nonnegative, positive=spec.positive)
    if plan.data.predictors is not None:
        taken = {data.id, *data.forcing.values(), *data.targets.values()}
        missing = [c for c in plan.data.predictors if c not in data.frame.columns or c in taken]
        if missing:
            raise DataError(f"data {short_repr(data.name)}: predictor(s) {', '.join(missing)} are not columns that can be "
                            f"predictors (its default predictors: {', '.join(data.predictors)})")
        data = HybridData(data.frame, data.id, list(plan.data.predictors), data.forcing, data.targets, data.source,
                          data.notes)
    return data


def _split(plan: RunPlan, data: HybridData, targets: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions (train, val, calibration)."""
    values = None
    if plan.split.kind == "temperature":
        column = data.forcing.get(plan.split.column, plan.split.column)
        if column not in data.frame.columns:
            raise DataError(f"temperature split: column {short_repr(plan.split.column)} not found in data {short_repr(data.name)}")
        values = data.frame[column].to_numpy()
    groups = data.frame[data.id].to_numpy()
    train_rows, val_rows = split_rows(groups, plan.split, plan.train.seed, values)
    train_rows, calibration_rows = hold_out_calibration(groups, train_rows, plan.split.calibration, plan.train.seed)
    for rows, name in ((train_rows, "training"), (val_rows, "validation")):
        for target in targets:
            n = int(data.frame[data.targets[target]].iloc[rows].notna().sum())
            if n < 2:
                raise DataError(f"target {short_repr(target)} (column {short_repr(data.targets[target])}) has {n} observation(s) in the "
                                f"{name} split; it needs at least 2: choose another split or leave the target out")
    return train_rows, val_rows, calibration_rows


def divergence_message(history: list[dict], model: TrainableModel) -> str:
    """Which epoch diverged and what went first: the targets whose loss became non-finite, and any
    learned global value or network weight that did."""
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


def _train_members(context: RunContext, model_config: dict, train_tensors: Tensors, val_tensors: Tensors,
                   observer: RunObserver, stop_event) -> tuple:
    """Train an ensemble's members and evaluate them; members that diverged leave the model (and
    ``model_config``), so the saved model holds only the members that finished."""
    model, plan = context.model, context.plan
    outcome = train_members(model, train_tensors, val_tensors, plan.train, stop_event=stop_event,
                            callbacks=[lambda rows: observer.on_epoch(epoch_row(rows), context)])
    model.to("cpu")
    context.everything = context.everything.to("cpu")
    final, metrics, members_table, result = finish_members(
        model, outcome, plan=plan, data=context.data, everything=context.everything, targets=context.targets,
        train_rows=context.train_rows, val_rows=context.val_rows, calibration_rows=context.calibration_rows)
    failed = {row["member"] for row in metrics["failed_members"]}
    if failed:
        kept = [k for k in range(model.count) if k not in failed]
        model.keep(kept)
        model_config.update(members=len(kept), member_seeds=[model_config["member_seeds"][k] for k in kept])
    return final, metrics, members_table, result


def _calibrate(context: RunContext, metrics: dict, predictions) -> dict | None:
    """calibration.json of the trained model, when the split held out calibration sites: its
    coverage, width and CRPS go into ``metrics``, and each calibrated target's bounds at the
    reported level into ``predictions`` (``<target>_lower``, ``<target>_upper``)."""
    if not len(context.calibration_rows):
        return None
    rows = {"calibration": context.calibration_rows, "train": context.train_rows, "val": context.val_rows}
    nonnegative = context.plan.spec.nonnegative
    calibration = calibrate_run(context.model, context.everything, context.targets, rows, nonnegative=nonnegative,
                                seed=context.plan.train.seed)
    add_interval_metrics(metrics, calibration)
    bounds, _ = interval_columns(context.model, context.everything, context.targets, calibration, calibration["level"])
    for name, values in bounds.items():
        predictions[name] = values
    return calibration


def execute(plan: RunPlan | dict, out: str | Path | None = None, observer: RunObserver | None = None,
            stop_event: threading.Event | None = None) -> Run:
    """Run a plan: load its data, split, build and train the model, evaluate it on every row.

    Parameters
    ----------
    plan : RunPlan or dict
        The run as plain data (its dict crosses process boundaries).
    out : str or Path, optional
        A run folder to write (see :mod:`core.store`); None keeps the run in memory only.
    observer : RunObserver, optional
        Hooks called as the run starts, after each epoch and when it is evaluated.
    stop_event : threading.Event, optional
        Set it from another thread to end training after the current batch (the best epoch is kept).

    Returns
    -------
    Run
        The trained model with its metrics, predictions and parameters tables.
    """
    plan = plan if isinstance(plan, RunPlan) else RunPlan.from_dict(plan)
    observer = observer or RunObserver()
    spec = plan.spec
    data = load_plan_data(plan)
    forcing, targets = spec.variables(data, plan.targets)
    train_rows, val_rows, calibration_rows = _split(plan, data, targets)
    train_tensors = data.tensors(train_rows, forcing, targets)
    val_tensors = data.tensors(val_rows, forcing, targets)

    parameter_set = plan.parameter_set()
    model_config = {"name": spec.name, "predictors": data.predictors, "forcing": forcing, "targets": targets,
                    "parameters": parameter_set.to_dict(), "network": plan.network.to_dict(),
                    "options": spec.check_options(plan.options)}
    # before any weight is allocated: inputs and outputs at their most (the network sees the forcing too)
    check_weights(len(data.predictors) + len(forcing), max(len(targets), len(parameter_set.names)), plan.network,
                  plan.train.members)
    if plan.train.members > 1:
        model_config.update(members=plan.train.members, member_seeds=plan.train.member_seeds)
        model = build_members(model_config, plan.train.member_seeds, train_tensors)
    else:
        with GLOBAL_GENERATOR:  # initial weights from the seed, also with runs in other threads
            torch.manual_seed(plan.train.seed)
            model = build_model(model_config)
        model.set_normalization(train_tensors.x, train_tensors.forcing, train_tensors.y)

    context = RunContext(plan, data, model, targets, train_rows, val_rows, data.tensors(None, forcing, targets),
                         calibration_rows)
    observer.on_start(context)
    if plan.train.members > 1:
        final, metrics, members_table, result = _train_members(context, model_config, train_tensors, val_tensors,
                                                              observer, stop_event)
    else:
        result = train(model, train_tensors, val_tensors, plan.train,
                       callbacks=[lambda row: observer.on_epoch(row, context)], stop_event=stop_event)
        if result.stopped == "diverged":
            raise DivergenceError(divergence_message(result.history, model))
        model.to("cpu")
        context.everything = context.everything.to("cpu")
        final = context.snapshot(result.best_epoch)
        metrics = run_metrics(spec, parameter_set, final, data, plan, result, train_rows=train_rows, val_rows=val_rows)
        members_table = None
    calibration = _calibrate(context, metrics, final.predictions)
    run = Run(plan=plan, model_config=model_config, model=model, data=data, train_rows=train_rows, val_rows=val_rows,
              result=result, metrics=metrics, predictions=final.predictions, parameters=final.parameters,
              outputs=final.outputs, members_table=members_table, calibration_rows=calibration_rows,
              calibration=calibration)
    observer.on_finish(run, context)
    if out is not None:
        run.save(out)
    return run
