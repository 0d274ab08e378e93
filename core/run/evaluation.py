"""Evaluation of a trained (or training) model on every row: the predictions and parameters
tables of a run folder, metrics per target and split, parameter recovery where the data carry
the truth, and the model's own diagnostics.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.datasets import HybridData
from core.metrics import AT_BOUND, all_metrics, correlation, log_combination, share_at_bound, unit_position
from core.hybrid.parameters import ParameterSet
from core.hybrid.model import ModelOutput
from core.hybrid.members import ensemble_mean
from core.training.loop import Tensors, TrainResult, predict

@dataclass
class Snapshot:
    """The model's state evaluated on every row.

    Parameters
    ----------
    epoch : int
    predictions, parameters : pandas.DataFrame
        As in a run folder: one row per site.
    targets : dict
        Metrics per target and split.
    outputs : dict
        The per-sample model outputs, name -> (n,) array.
    seconds : float
        Wall time the evaluation took.
    """

    epoch: int
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    targets: dict
    outputs: dict
    seconds: float = 0.0


def evaluate(model, data: HybridData, everything: Tensors, targets: list[str], *, train_rows: np.ndarray,
             val_rows: np.ndarray, epoch: int = 0, calibration_rows: np.ndarray | None = None) -> Snapshot:
    """Predict on all rows (``everything``, the tensors of every row of ``data``) and build the
    predictions / parameters tables and the metrics of each target on both splits."""
    start = time.perf_counter()
    out, spread = predict(model, everything), None
    if out.predictions.dim() == 3:
        out, spread = ensemble_mean(out, targets)
    return snapshot_of(out, data, everything.y, targets, train_rows=train_rows, val_rows=val_rows, epoch=epoch,
                       start=start, spread=spread, calibration_rows=calibration_rows)


def snapshot_of(out: ModelOutput, data: HybridData, observations, targets: list[str], *, train_rows: np.ndarray,
                val_rows: np.ndarray, epoch: int = 0, start: float | None = None, spread: dict | None = None,
                calibration_rows: np.ndarray | None = None) -> Snapshot:
    """The tables and metrics of a model's output on every row: predictions (n, T), parameters
    and outputs (n,) each; ``observations`` (n, T). ``spread`` adds ``<name>_sd`` columns (an
    ensemble's across-member sd: target name or parameter name -> (n,) array). Rows held out to
    calibrate intervals (``calibration_rows``) get the split ``calibration``."""
    start = time.perf_counter() if start is None else start
    spread = spread or {}
    predicted = out.predictions.double().cpu().numpy()
    observed = observations.double().cpu().numpy()
    codes = np.zeros(len(data.frame), dtype=np.int8)
    codes[val_rows] = 1
    names = ["train", "val"]
    if calibration_rows is not None and len(calibration_rows):
        codes[calibration_rows] = 2
        names.append("calibration")
    split = pd.Categorical.from_codes(codes, names)
    ids = data.frame[data.id].to_numpy()
    columns = {"id": ids, "split": split}
    for j, target in enumerate(targets):
        columns[f"{target}_obs"] = observed[:, j]
        columns[f"{target}_pred"] = predicted[:, j]
        if target in spread:
            columns[f"{target}_sd"] = spread[target]
    parameters = {"id": ids, "split": split}
    for name, v in out.parameters.items():
        parameters[name] = v.double().cpu().numpy()
        if name in spread:
            parameters[f"{name}_sd"] = spread[name]
    target_metrics: dict = {}
    for rows, key in ((train_rows, "train"), (val_rows, "val")):
        for target, values in zip(targets, all_metrics(observed[rows], predicted[rows])):
            target_metrics.setdefault(target, {})[key] = values
    outputs = {k: v.double().cpu().numpy() for k, v in out.outputs.items()}
    return Snapshot(epoch, pd.DataFrame(columns), pd.DataFrame(parameters), target_metrics, outputs,
                    time.perf_counter() - start)


def parameter_recovery(parameter_set: ParameterSet, values: dict, data: HybridData, *, val_rows) -> dict:
    """Learned vs true for every learned parameter whose truth the data carry (``true_<name>``).

    Neural: Pearson r and RMSE over all rows, and over validation rows (``r_val``, ``rmse_val``).
    Global: learned value, true value (mean of the truth column) and relative error.
    """
    truth = data.truth_columns()
    recovery = {}
    for p in parameter_set:
        if p.name not in truth or p.role == "fixed":
            continue
        true = data.frame[truth[p.name]].to_numpy(dtype=float)
        learned = values[p.name]
        known = np.isfinite(true)
        if p.role == "global":
            true_mean = float(np.mean(true[known]))
            value = float(learned[0])
            recovery[p.name] = {"learned": value, "true": true_mean,
                                "rel_error": abs(value - true_mean) / abs(true_mean) if true_mean else math.nan}
            continue
        entry = {}
        for suffix, rows in (("", np.arange(len(true))), ("_val", np.asarray(val_rows))):
            a, b = learned[rows][known[rows]], true[rows][known[rows]]
            entry["r" + suffix] = correlation(a, b)
            entry["rmse" + suffix] = float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else math.nan
        recovery[p.name] = entry
    return recovery


def bound_reached(value: float, parameter) -> str | None:
    """``"lower"`` or ``"upper"`` where a value lies within :data:`core.metrics.AT_BOUND` of the
    range (on the parameter's scale) from that bound, else None."""
    position = float(unit_position(np.asarray([value]), parameter)[0])
    if not math.isfinite(position):
        return None
    return "lower" if position < AT_BOUND else "upper" if position > 1 - AT_BOUND else None


def learned_globals(parameter_set: ParameterSet, values: dict) -> dict:
    """metrics.json's ``globals``: every learned global parameter's value with its unit,
    description, bounds, scale and ``at_bound`` (``"lower"``, ``"upper"`` or None), whether or not the data carry the
    truth. values: name -> per-row array (a global's is one value repeated)."""
    result = {}
    for p in parameter_set:
        if p.role != "global":
            continue
        value = float(np.asarray(values[p.name], dtype=float)[0]) if len(values[p.name]) else math.nan
        result[p.name] = {"value": value, "unit": p.unit, "description": p.description, "lower": p.lower,
                          "upper": p.upper, "scale": p.scale, "at_bound": bound_reached(value, p)}
    return result


#: a neural parameter is flagged when at least this share of its sites sit at a bound
PINNED_SHARE = 0.5
#: ... or when its 5-95 % range over the sites spans less than this share of its bounds' range
CONSTANT_SPAN = 0.01


def neural_summary(parameter_set: ParameterSet, values: dict) -> dict:
    """metrics.json's ``neural``: every neural parameter's median and 5-95 % range over the sites
    (in its unit), its share of sites at a bound, and ``problem``: ``"at_bound"`` when at least
    :data:`PINNED_SHARE` of the sites sit at a bound, ``"constant"`` when its 5-95 % range spans less
    than :data:`CONSTANT_SPAN` of the range between its bounds (the network learned one value for
    every site: in effect a global), else None. values: name -> (n,) array."""
    result = {}
    for p in parameter_set:
        if p.role != "neural":
            continue
        v = np.asarray(values[p.name], dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        p05, median, p95 = (float(q) for q in np.percentile(v, [5, 50, 95]))
        low, high = unit_position(np.asarray([p05, p95]), p)
        share = share_at_bound(v, p)
        problem = "at_bound" if share >= PINNED_SHARE else "constant" if high - low < CONSTANT_SPAN else None
        result[p.name] = {"median": median, "p05": p05, "p95": p95, "unit": p.unit, "lower": p.lower,
                          "upper": p.upper, "share_at_bound": share, "problem": problem}
    return result


def combination_recovery(combinations: dict, *, values: dict, neural: list[str], data: HybridData) -> dict:
    """r of learned vs true log-combinations (a model's ``combinations``) whose parts are all
    neural and known in the data."""
    truth = data.truth_columns()
    result = {}
    for label, parts in combinations.items():
        if all(name in neural and name in truth for name, _ in parts):
            learned = log_combination(values, parts)
            true = log_combination(data.frame, parts, prefix="true_")
            if np.std(learned) > 0:
                result[label] = {"r_log": float(np.corrcoef(learned, true)[0, 1])}
    return result


def run_metrics(spec, parameter_set: ParameterSet, snapshot: Snapshot, data: HybridData, plan, result: TrainResult,
                *, train_rows: np.ndarray, val_rows: np.ndarray) -> dict:
    """metrics.json of a run: settings, training summary, metrics per target and split, mean
    validation KGE, diagnostics, the learned global parameters (``globals``), parameter
    recovery, and what loading the data said (``data_notes``: e.g. the rows left out of training)."""
    targets = list(snapshot.targets)
    val_kges = [snapshot.targets[t]["val"]["kge"] for t in targets]
    finite = [k for k in val_kges if math.isfinite(k)]
    metrics = {
        "model": plan.model, "roles": parameter_set.roles, "split": plan.split.kind, "seed": plan.train.seed,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "stopped": result.stopped,
        "train_seconds": result.seconds, "seconds_per_epoch": result.seconds / max(result.epochs_run, 1),
        "n_train": int(len(train_rows)), "n_val": int(len(val_rows)),
        "n_calibration": int((snapshot.predictions["split"] == "calibration").sum()), "targets": snapshot.targets,
        "mean_val_kge": float(np.mean(finite)) if finite else math.nan, "diagnostics": {}, "globals": {},
        "data_notes": list(getattr(data, "notes", [])),
    }
    if not spec.has_parameters:
        return metrics
    values = {k: snapshot.parameters[k].to_numpy() for k in parameter_set.names}
    neural = [p.name for p in parameter_set if p.role == "neural"]
    diagnostics = {"share_at_bound": {name: share_at_bound(values[name], parameter_set[name]) for name in neural}}
    if spec.diagnostics is not None:
        observed = {t: snapshot.predictions[f"{t}_obs"].to_numpy() for t in targets}
        diagnostics.update(spec.diagnostics(snapshot.outputs, values, observed))
    metrics["diagnostics"] = diagnostics
    metrics["globals"] = learned_globals(parameter_set, values)
    metrics["neural"] = neural_summary(parameter_set, values)
    recovery = parameter_recovery(parameter_set, values, data, val_rows=val_rows)
    if recovery:
        metrics["parameter_recovery"] = recovery
        combinations = combination_recovery(spec.combinations, values=values, neural=neural, data=data)
        if combinations:
            metrics["parameter_recovery_combinations"] = combinations
    return metrics
