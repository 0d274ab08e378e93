"""The one way a plan becomes a run: :func:`execute`.

    plan (RunPlan or its dict) -> load data -> split -> build the K models, stacked (K = 1: a single run)
        -> train them (core.training.loop.train_members) -> finish (core.run.finish.finish_run) -> Run
                                                                          [-> run folder, core.run.store]

It loads the data itself (built-in sets are cached per process), so it can run in another
process or on another machine from the plan's dict alone. Callers follow a run through a
:class:`RunObserver`: progress bars (CLI), live views (dashboard), nothing (sweeps).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.uncertainty.calibration import add_interval_metrics, calibrate_run, interval_columns
from core.datasets import HybridData, load_source
from core.errors import DataError
from core.run.evaluation import Snapshot, evaluate, snapshot_of
from core.hybrid.model import TrainableModel
from core.run.finish import build_members, epoch_row, finish_run
from core.hybrid.members import MemberModel, member_output
from core.hybrid.network import check_weights
from core.run.plan import RunPlan
from core.run.result import Run
from core.training.splits import hold_out_calibration, split_rows
from core.training.loop import Tensors, predict, train_members
from core.formatting import short_repr
from core.spatial.geometry import split_coordinates, split_geometry
from core.run.applicability import applicability_metrics, fit_run_applicability
from core.run.strata import stratified_scores
from core.spatial.scores import stratum_labels


@dataclass
class RunContext:
    """What an observer may look at while a run trains. :meth:`snapshot` evaluates the model on
    every row now (in the calling thread, which is the training thread during ``on_epoch``).

    Parameters
    ----------
    plan : RunPlan
    data : HybridData
    model : MemberModel or TrainableModel
        While training, the stack of the run's members (one for a single run); once finished,
        the run's model.
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
        if isinstance(self.model, MemberModel) and self.plan.train.members == 1:  # a single run: its one member
            out = member_output(predict(self.model, self.everything), 0)
            return snapshot_of(out, self.data, self.everything.y, self.targets, train_rows=self.train_rows,
                               val_rows=self.val_rows, epoch=epoch, calibration_rows=self.calibration_rows)
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
    coordinates = split_coordinates(data, plan.split)[0] if plan.split.kind == "spatial" else None
    train_rows, val_rows = split_rows(groups, plan.split, plan.train.seed, values, coordinates)
    train_rows, calibration_rows = hold_out_calibration(groups, train_rows, plan.split.calibration, plan.train.seed)
    for rows, name in ((train_rows, "training"), (val_rows, "validation")):
        for target in targets:
            n = int(data.frame[data.targets[target]].iloc[rows].notna().sum())
            if n < 2:
                raise DataError(f"target {short_repr(target)} (column {short_repr(data.targets[target])}) has {n} observation(s) in the "
                                f"{name} split; it needs at least 2: choose another split or leave the target out")
    return train_rows, val_rows, calibration_rows


def _train(context: RunContext, model_config: dict, train_tensors: Tensors, val_tensors: Tensors,
           observer: RunObserver, stop_event):
    """Train the run's members (one for a single run) and finish the run (:func:`finish_run`);
    members that diverged leave the model (and ``model_config``), so the saved model holds only
    the members that finished."""
    stack, plan = context.model, context.plan
    outcome = train_members(stack, train_tensors, val_tensors, plan.train, stop_event=stop_event,
                            callbacks=[lambda rows: observer.on_epoch(epoch_row(rows), context)])
    stack.to("cpu")
    context.everything = context.everything.to("cpu")
    finished = finish_run(stack, outcome, plan=plan, data=context.data, everything=context.everything,
                          targets=context.targets, train_rows=context.train_rows, val_rows=context.val_rows,
                          calibration_rows=context.calibration_rows)
    if plan.train.members > 1 and len(finished.kept) < plan.train.members:
        model_config.update(members=len(finished.kept),
                            member_seeds=[model_config["member_seeds"][k] for k in finished.kept])
    context.model = finished.model
    return finished


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


def _model_config(plan: RunPlan, data: HybridData, forcing: list[str], targets: list[str]) -> dict:
    """The ``model`` block of config.json (enough to rebuild the model), its size checked before any
    weight is allocated; an ensemble's names its members and their seeds."""
    spec, parameter_set = plan.spec, plan.parameter_set()
    model_config = {"name": spec.name, "predictors": data.predictors, "forcing": forcing, "targets": targets,
                    "parameters": parameter_set.to_dict(), "network": plan.network.to_dict(),
                    "options": spec.check_options(plan.options)}
    # inputs and outputs at their most (the network sees the forcing too)
    check_weights(len(data.predictors) + len(forcing), max(len(targets), len(parameter_set.names)), plan.network,
                  plan.train.members)
    if plan.train.members > 1:
        model_config.update(members=plan.train.members, member_seeds=plan.train.member_seeds)
    return model_config


def _applicability(finished, plan: RunPlan, data: HybridData, rows: tuple, variables: tuple, val_tensors: Tensors,
                   calibration: dict | None):
    """The run's area of applicability (None without predictors, or when the plan asks for none)
    and, into its metrics, ``applicability`` and ``scores_by`` (validation scores per DI bin, AOA
    side and stratum)."""
    (train_rows, val_rows), (forcing, targets) = rows, variables
    applicability = None if not plan.applicability else fit_run_applicability(
        finished.model, data, {"train": train_rows, "val": val_rows}, forcing, targets, plan.train.seed)
    if applicability is not None:
        finished.metrics["applicability"] = applicability_metrics(applicability, data, val_rows)
    scores_by = stratified_scores(finished.model, data, val_tensors, finished.snapshot.predictions, targets, val_rows,
                                  calibration=calibration, applicability=applicability, stratum=plan.stratum)
    if scores_by is not None:
        finished.metrics["scores_by"] = scores_by
    return applicability


def execute(plan: RunPlan | dict, out: str | Path | None = None, observer: RunObserver | None = None,
            stop_event: threading.Event | None = None) -> Run:
    """Run a plan: load its data, split, build and train the model, evaluate it on every row.

    Parameters
    ----------
    plan : RunPlan or dict
        The run as plain data (its dict crosses process boundaries).
    out : str or Path, optional
        A run folder to write (see :mod:`core.run.store`); None keeps the run in memory only.
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
    if plan.stratum is not None:  # a bad column is refused before any training
        stratum_labels(data.frame, plan.stratum, data.name)
    train_rows, val_rows, calibration_rows = _split(plan, data, targets)
    train_tensors = data.tensors(train_rows, forcing, targets)
    val_tensors = data.tensors(val_rows, forcing, targets)

    model_config = _model_config(plan, data, forcing, targets)
    # each member initialised as a single run with its seed would be (core.run.finish.build_members)
    stack = build_members(model_config, plan.train.member_seeds, train_tensors)
    context = RunContext(plan, data, stack, targets, train_rows, val_rows, data.tensors(None, forcing, targets),
                         calibration_rows)
    observer.on_start(context)
    finished = _train(context, model_config, train_tensors, val_tensors, observer, stop_event)
    final = finished.snapshot
    geometry = split_geometry(data, plan.split, train_rows, val_rows, plan.train.seed)
    if geometry is not None:
        finished.metrics["split_geometry"] = geometry
    calibration = _calibrate(context, finished.metrics, final.predictions)
    applicability = _applicability(finished, plan, data, (train_rows, val_rows), (forcing, targets), val_tensors,
                                   calibration)
    run = Run(plan=plan, model_config=model_config, model=finished.model, data=data, train_rows=train_rows,
              val_rows=val_rows, result=finished.result, metrics=finished.metrics, predictions=final.predictions,
              parameters=final.parameters, outputs=final.outputs, members_table=finished.members_table,
              calibration_rows=calibration_rows, calibration=calibration, applicability=applicability)
    observer.on_finish(run, context)
    if out is not None:
        run.save(out)
    return run
