"""Evaluation of a trained (or training) model on every row: the predictions and parameters
tables of a run folder, metrics per target and split, parameter recovery where the data carry
the truth, and the model's own diagnostics.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .datasets import HybridData
from .metrics import all_metrics
from .parameters import Parameter, ParameterSet
from .training import Tensors, TrainResult, predict

#: a neural parameter counts as "at a bound" within this share of its range from either end
AT_BOUND = 0.01


@dataclass
class Snapshot:
    """The model's state evaluated on every row: predictions and parameters tables (as in a run
    folder), metrics per target and split, and the per-sample model outputs (name -> (n,) array).
    ``seconds``: wall time the evaluation took."""

    epoch: int
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    targets: dict
    outputs: dict
    seconds: float = 0.0


@dataclass
class Run:
    """A finished run: its plan, the resolved model description, data, model, split rows, training
    result, metrics and result tables. Written to a folder by :func:`core.store.write_run`."""

    plan: "object"
    model_config: dict
    model: torch.nn.Module
    data: HybridData
    train_rows: np.ndarray
    val_rows: np.ndarray
    result: TrainResult
    metrics: dict
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    outputs: dict
    #: results of analyses after training (e.g. an experiment's Shapley explanation); not saved
    extras: dict = field(default_factory=dict)

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.result.history)

    def final_snapshot(self) -> Snapshot:
        """The evaluation of the kept weights as a :class:`Snapshot` (for live views)."""
        return Snapshot(self.result.best_epoch, self.predictions, self.parameters, self.metrics["targets"],
                        self.outputs)

    @property
    def plots(self):
        """HoloViews figures of this run (:class:`core.plots.RunPlots`): ``scatter()``, ``kge()``,
        ``loss()``, ``parameters()``, ``saturation()``."""
        from .plots import RunPlots

        return RunPlots(self)

    def save(self, out, overwrite: bool = False) -> "object":
        """Write the run folder (see :func:`core.store.write_run`); returns its path."""
        from .store import write_run

        return write_run(self, out, overwrite)


def unit_position(values: np.ndarray, parameter: Parameter | object) -> np.ndarray:
    """Where values sit between a parameter's bounds, 0 at the lower and 1 at the upper bound,
    on the parameter's scale (``lower``, ``upper`` and ``scale`` attributes)."""
    values = np.asarray(values, dtype=float)
    if parameter.scale == "log":
        low, high = math.log(parameter.lower), math.log(parameter.upper)
        return (np.log(values) - low) / (high - low)
    return (values - parameter.lower) / (parameter.upper - parameter.lower)


def share_at_bound(values: np.ndarray, parameter) -> float:
    """Share of values within 1 % of the range from either bound."""
    position = unit_position(values, parameter)
    return float(np.mean((position < AT_BOUND) | (position > 1 - AT_BOUND))) if len(position) else math.nan


def evaluate(model, data: HybridData, everything: Tensors, targets: list[str], val_rows: np.ndarray,
             train_rows: np.ndarray, epoch: int = 0) -> Snapshot:
    """Predict on all rows (``everything``, the tensors of every row of ``data``) and build the
    predictions / parameters tables and the metrics of each target on both splits."""
    start = time.perf_counter()
    out = predict(model, everything)
    predicted = out.predictions.double().cpu().numpy()
    observed = everything.y.double().cpu().numpy()
    codes = np.zeros(len(data.frame), dtype=np.int8)
    codes[val_rows] = 1
    split = pd.Categorical.from_codes(codes, ["train", "val"])
    ids = data.frame[data.id].to_numpy()
    columns = {"id": ids, "split": split}
    for j, target in enumerate(targets):
        columns[f"{target}_obs"] = observed[:, j]
        columns[f"{target}_pred"] = predicted[:, j]
    parameters = pd.DataFrame({"id": ids, "split": split,
                               **{name: v.double().cpu().numpy() for name, v in out.parameters.items()}})
    target_metrics: dict = {}
    for rows, key in ((train_rows, "train"), (val_rows, "val")):
        for target, values in zip(targets, all_metrics(observed[rows], predicted[rows])):
            target_metrics.setdefault(target, {})[key] = values
    outputs = {k: v.double().cpu().numpy() for k, v in out.outputs.items()}
    return Snapshot(epoch, pd.DataFrame(columns), parameters, target_metrics, outputs, time.perf_counter() - start)


def parameter_recovery(parameter_set: ParameterSet, values: dict, data: HybridData, val_rows) -> dict:
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


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r, NaN when either side has fewer than 2 values or no spread."""
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and np.std(a) > 0 and np.std(b) > 0 else math.nan


#: the smallest positive value taken before a log (a parameter bounded at 0 may sit on its bound)
TINY = 1e-12


def log_combination(columns, parts, prefix: str = "") -> np.ndarray:
    """log of a product of powers of parameters: sum of power * log(column ``prefix + name``);
    columns: a table or name -> array (any shape, all alike)."""
    return sum(power * np.log(np.maximum(np.asarray(columns[f"{prefix}{name}"], dtype=float), TINY))
               for name, power in parts)


def combination_recovery(combinations: dict, values: dict, neural: list[str], data: HybridData) -> dict:
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
                train_rows, val_rows) -> dict:
    """metrics.json of a run: settings, training summary, metrics per target and split, mean
    validation KGE, diagnostics and parameter recovery."""
    targets = list(snapshot.targets)
    val_kges = [snapshot.targets[t]["val"]["kge"] for t in targets]
    finite = [k for k in val_kges if math.isfinite(k)]
    metrics = {
        "model": plan.model, "roles": parameter_set.roles, "split": plan.split.kind, "seed": plan.train.seed,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "stopped": result.stopped,
        "train_seconds": result.seconds, "seconds_per_epoch": result.seconds / max(result.epochs_run, 1),
        "n_train": int(len(train_rows)), "n_val": int(len(val_rows)), "targets": snapshot.targets,
        "mean_val_kge": float(np.mean(finite)) if finite else math.nan, "diagnostics": {},
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
    recovery = parameter_recovery(parameter_set, values, data, val_rows)
    if recovery:
        metrics["parameter_recovery"] = recovery
        combinations = combination_recovery(spec.combinations, values, neural, data)
        if combinations:
            metrics["parameter_recovery_combinations"] = combinations
    return metrics


def json_safe(obj):
    """The object with non-finite floats replaced by None, so that it is valid JSON."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
