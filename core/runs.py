"""A run: configuration -> data, split, model, training, evaluation -> a directory on disk.

A run directory holds ``config.json`` (everything needed to rebuild the model), ``history.csv``,
``metrics.json``, ``predictions.parquet``, ``parameters.parquet`` and ``model.pt`` (state dict).
:func:`load_run` brings one back to predict on new data.
"""
from __future__ import annotations

import importlib
import json
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import torch

from .datasets import HybridData, load_source
from .errors import DataError, HybridlabError
from .hybrid import HybridModel, NeuralNetwork
from .metrics import all_metrics
from .models import NEURAL_NETWORK, ModelSpec, get_model
from .network import NetworkConfig
from .parameters import ParameterSet
from .splits import SplitConfig, split_rows
from .training import TrainConfig, TrainResult, predict, train


# Live views: the fastest refresh they need (s) and the share of training time they may take.
SNAPSHOT_INTERVAL = 0.5
SNAPSHOT_BUDGET = 0.04

FORMAT_VERSION = 1


@dataclass
class RunConfig:
    """Everything that defines a run. ``roles``: preset name, JSON string or mapping (None: the
    model's default preset). ``overrides``: parameter name -> changed fields (lower, upper, value,
    scale). ``options``: keyword options of the model function (e.g. ``feasibility_weight``).
    ``targets``: model targets to fit (None: all the data provide)."""

    model: str = "respiration"
    data: dict = field(default_factory=lambda: {"name": "respiration-synthetic"})
    roles: str | dict | None = None
    overrides: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    targets: list[str] | None = None
    split: SplitConfig = field(default_factory=SplitConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def parameter_set(self, spec: ModelSpec) -> ParameterSet:
        """The model's parameter set with this config's roles and overrides applied."""
        ps = spec.parameters()
        ps.set_roles(self.roles if self.roles is not None else spec.default_roles)
        for name, changes in self.overrides.items():
            ps.update(name, **changes)
        return ps


def default_settings(model: str) -> dict:
    """Training and network settings to start from for a model: the report's defaults
    (TrainConfig, NetworkConfig) updated with the model's own recommendations."""
    settings = {**TrainConfig().to_dict(), **NetworkConfig().to_dict()}
    if model != NEURAL_NETWORK:
        settings.update(get_model(model).defaults)
    settings["hidden"] = tuple(settings["hidden"])
    return settings


def _options(spec: ModelSpec, given: dict) -> dict:
    unknown = [k for k in given if k not in spec.options]
    if unknown:
        raise HybridlabError(f"model {spec.name!r} has no option {', '.join(map(repr, unknown))}; "
                             f"options: {', '.join(spec.options) or 'none'}")
    return {**spec.options, **{k: float(v) for k, v in given.items()}}


def _function_path(fn: Callable) -> str:
    return f"{fn.__module__}:{fn.__qualname__}"


def _import_function(path: str) -> Callable:
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def build_model(model_cfg: dict) -> torch.nn.Module:
    """Rebuild an untrained model from the ``model`` block of a run's config.json."""
    net = NetworkConfig(**model_cfg["network"])
    if model_cfg["kind"] == NEURAL_NETWORK:
        return NeuralNetwork(model_cfg["predictors"], model_cfg["forcing"], model_cfg["targets"], net,
                             use_forcing=model_cfg.get("use_forcing", True))
    ps = ParameterSet.from_dict(model_cfg["parameters"])
    return HybridModel(model_cfg["predictors"], model_cfg["forcing"], model_cfg["targets"],
                       _import_function(model_cfg["function"]), ps, net,
                       options=model_cfg.get("options"), tracked=model_cfg.get("tracked", ()))


def _unit(values: np.ndarray, p) -> np.ndarray:
    if p.scale == "log":
        return (np.log(values) - math.log(p.lower)) / (math.log(p.upper) - math.log(p.lower))
    return (values - p.lower) / (p.upper - p.lower)


@dataclass
class Run:
    """A trained run: its config, data, model, split rows, history, metrics and result tables."""

    config: dict
    model: torch.nn.Module
    data: HybridData
    train_rows: np.ndarray
    val_rows: np.ndarray
    result: TrainResult
    metrics: dict
    predictions: pd.DataFrame
    parameters: pd.DataFrame

    @property
    def history(self) -> pd.DataFrame:
        return pd.DataFrame(self.result.history)

    def save(self, out: str | Path) -> Path:
        """Write the run directory (created if needed) and return its path."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(self.config, indent=2))
        self.history.to_csv(out / "history.csv", index=False)
        (out / "metrics.json").write_text(json.dumps(json_safe(self.metrics), indent=2))
        self.predictions.to_parquet(out / "predictions.parquet", index=False)
        self.parameters.to_parquet(out / "parameters.parquet", index=False)
        torch.save(self.model.state_dict(), out / "model.pt")
        return out


def json_safe(obj):
    """The object with non-finite floats replaced by None, so that it is valid JSON."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _resolve_targets(cfg: RunConfig, spec: ModelSpec | None, data: HybridData) -> list[str]:
    available = list(data.targets)
    if spec is not None:
        wanted = cfg.targets or [t for t in spec.targets if t in data.targets]
        unknown = [t for t in wanted if t not in spec.targets]
        if unknown:
            raise HybridlabError(f"model {spec.name!r} has no target {', '.join(unknown)}; "
                                 f"its targets: {', '.join(spec.targets)}")
        if not wanted:
            raise DataError(f"data {data.name!r} provides none of the targets of model {spec.name!r} "
                            f"({', '.join(spec.targets)}); map at least one in the column mapping")
        missing_forcing = [f for f in spec.forcing if f not in data.forcing]
        if missing_forcing:
            raise DataError(f"model {spec.name!r} needs forcing {', '.join(missing_forcing)}, which data "
                            f"{data.name!r} does not provide; map it in the column mapping")
    else:
        wanted = cfg.targets or available
    missing = [t for t in wanted if t not in available]
    if missing:
        raise DataError(f"data {data.name!r} has no target {', '.join(missing)}")
    return wanted


def _check_split_targets(data: HybridData, targets, rows, split_name):
    for t in targets:
        n = int(data.frame[data.targets[t]].iloc[rows].notna().sum())
        if n < 2:
            raise DataError(f"target {t!r} (column {data.targets[t]!r}) has {n} observation(s) in the "
                            f"{split_name} split; it needs at least 2: choose another split or leave the target out")


def train_run(cfg: RunConfig, data: HybridData | None = None, spec: ModelSpec | None = None,
              callbacks: Iterable[Callable[[dict], None]] = (),
              stop_event: threading.Event | None = None,
              on_snapshot: Callable[[Snapshot], None] | None = None,
              snapshot_interval: float = SNAPSHOT_INTERVAL, snapshot_budget: float = SNAPSHOT_BUDGET) -> Run:
    """Load data, split, build and train the model, and evaluate it. Nothing is written to disk.

    data: already loaded data (else loaded from ``cfg.data``); spec: a model not in the registry
    (its function must be importable by module path for the run to be loaded again).
    on_snapshot: receives a :class:`Snapshot` during training (called in the training thread; for
    live views): after the first epoch, then at most every ``snapshot_interval`` seconds and only as
    often as keeps the snapshots within ``snapshot_budget`` (a share) of the training time; a last
    one after training shows the kept weights (its ``epoch`` is the best epoch).
    """
    is_nn = cfg.model == NEURAL_NETWORK
    if spec is None and not is_nn:
        spec = get_model(cfg.model)
    if data is None:
        data = load_source(cfg.data)
    targets = _resolve_targets(cfg, spec, data)
    if spec is not None:
        forcing = list(spec.forcing) + [f for f in spec.optional_forcing if f in data.forcing]
    else:
        forcing = list(data.forcing)

    split_values = None
    if cfg.split.kind == "temperature":
        col = data.forcing.get(cfg.split.column, cfg.split.column)
        if col not in data.frame.columns:
            raise DataError(f"temperature split: column {cfg.split.column!r} not found in data {data.name!r}")
        split_values = data.frame[col].to_numpy()
    train_rows, val_rows = split_rows(data.frame[data.id].to_numpy(), cfg.split, cfg.train.seed, split_values)
    _check_split_targets(data, targets, train_rows, "training")
    _check_split_targets(data, targets, val_rows, "validation")

    train_t = data.tensors(train_rows, forcing, targets)
    val_t = data.tensors(val_rows, forcing, targets)

    torch.manual_seed(cfg.train.seed)
    if is_nn:
        model_cfg = {"kind": NEURAL_NETWORK, "predictors": data.predictors, "forcing": forcing,
                     "targets": targets, "network": cfg.network.to_dict(), "use_forcing": True}
        roles: dict = {}
    else:
        ps = cfg.parameter_set(spec)
        model_cfg = {"kind": "hybrid", "name": spec.name, "function": _function_path(spec.function),
                     "predictors": data.predictors, "forcing": forcing, "targets": targets,
                     "parameters": ps.to_dict(), "network": cfg.network.to_dict(),
                     "options": _options(spec, cfg.options), "tracked": list(spec.tracked)}
        roles = ps.roles
    model = build_model(model_cfg)
    model.set_normalization(train_t.x, train_t.forcing, train_t.y)

    callbacks = list(callbacks)
    if on_snapshot is not None:
        callbacks.append(_SnapshotCallback(model, data, forcing, targets, train_rows, val_rows, on_snapshot,
                                           snapshot_interval, snapshot_budget))
    result = train(model, train_t, val_t, cfg.train, callbacks=callbacks, stop_event=stop_event)
    model.to("cpu")

    config = {
        "format_version": FORMAT_VERSION,
        "model": model_cfg,
        "roles": roles,
        "data": data.source,
        "columns": {"id": data.id, "predictors": data.predictors, "forcing": data.forcing, "targets": data.targets},
        "split": cfg.split.to_dict(),
        "train": cfg.train.to_dict(),
    }
    return _evaluate(config, model, data, spec, train_rows, val_rows, result, on_snapshot)


@dataclass
class Snapshot:
    """The model's state during or after training, evaluated on every row: predictions and
    parameters tables (as in a run folder), metrics per target and split, and the model outputs.
    ``seconds``: wall time it took to evaluate."""

    epoch: int
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    targets: dict
    outputs: dict
    seconds: float = 0.0


def evaluate_tables(model, data: HybridData, forcing, targets, train_rows, val_rows, all_t=None,
                    epoch: int = 0) -> Snapshot:
    """Predict on all rows and build the predictions/parameters tables and per-split metrics."""
    start = time.perf_counter()
    all_t = all_t if all_t is not None else data.tensors(None, forcing, targets)
    out = predict(model, all_t)
    pred = out.predictions.double().cpu().numpy()
    obs = all_t.y.double().cpu().numpy()
    codes = np.zeros(len(data.frame), dtype=np.int8)
    codes[val_rows] = 1
    split = pd.Categorical.from_codes(codes, ["train", "val"])
    ids = data.frame[data.id].to_numpy()
    cols = {"id": ids, "split": split}
    for j, t in enumerate(targets):
        cols[f"{t}_obs"] = obs[:, j]
        cols[f"{t}_pred"] = pred[:, j]
    predictions = pd.DataFrame(cols)
    parameters = pd.DataFrame({"id": ids, "split": split,
                               **{name: v.double().cpu().numpy() for name, v in out.parameters.items()}})
    target_metrics: dict = {}
    for rows, key in ((train_rows, "train"), (val_rows, "val")):
        for t, m in zip(targets, all_metrics(obs[rows], pred[rows])):
            target_metrics.setdefault(t, {})[key] = m
    outputs = {k: v.double().cpu().numpy() for k, v in out.outputs.items()}
    return Snapshot(epoch, predictions, parameters, target_metrics, outputs, time.perf_counter() - start)


class _SnapshotCallback:
    """Epoch callback that evaluates the model on every row for live views, within a time budget.

    A snapshot is a forward pass over all rows plus the tables: on the LUCAS-like data about a
    third of an epoch's work. Waiting ``cost * (1 - budget) / budget`` after one keeps their share
    of the wall time at ``budget``; ``interval`` is the shortest wait. ``cost`` is the median of the
    last five snapshots: in the dashboard one that the page's server thread slowed down to several
    times the usual cost would otherwise freeze the views for tens of seconds.
    """

    def __init__(self, model, data, forcing, targets, train_rows, val_rows, handler, interval, budget):
        if not 0 < budget <= 1:
            raise HybridlabError(f"snapshot budget must be in (0, 1], got {budget}")
        self.model, self.data, self.forcing, self.targets = model, data, forcing, targets
        self.train_rows, self.val_rows, self.handler = train_rows, val_rows, handler
        self.interval, self.budget = interval, budget
        self.all_t = data.tensors(None, forcing, targets)
        self.next_at = -math.inf
        self.costs: list[float] = []

    def __call__(self, row: dict) -> None:
        start = time.perf_counter()
        if start < self.next_at:
            return
        device = next(self.model.parameters()).device
        if self.all_t.x.device != device:
            self.all_t = self.all_t.to(device)
        self.handler(evaluate_tables(self.model, self.data, self.forcing, self.targets, self.train_rows,
                                     self.val_rows, self.all_t, epoch=row["epoch"]))
        end = time.perf_counter()
        self.costs = self.costs[-4:] + [end - start]
        cost = float(np.median(self.costs))
        self.next_at = end + max(self.interval, cost * (1 - self.budget) / self.budget)


def _evaluate(config, model, data: HybridData, spec, train_rows, val_rows, result: TrainResult,
              on_snapshot=None) -> Run:
    mc = config["model"]
    targets, forcing = mc["targets"], mc["forcing"]
    all_t = data.tensors(None, forcing, targets)
    snap = evaluate_tables(model, data, forcing, targets, train_rows, val_rows, all_t, epoch=result.best_epoch)
    if on_snapshot is not None:  # live views end on the weights that were kept, not the last epoch's
        on_snapshot(snap)
    predictions, parameters, target_metrics = snap.predictions, snap.parameters, snap.targets
    obs = all_t.y.double().numpy()
    out_parameters = {k: parameters[k].to_numpy() for k in parameters.columns if k not in ("id", "split")}
    val_kges = [target_metrics[t]["val"]["kge"] for t in targets]
    finite = [k for k in val_kges if math.isfinite(k)]
    epochs = max(result.epochs_run, 1)

    metrics = {
        "model": mc.get("name", NEURAL_NETWORK),
        "roles": config["roles"],
        "split": config["split"]["kind"],
        "seed": config["train"]["seed"],
        "epochs_run": result.epochs_run,
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "train_seconds": result.seconds,
        "seconds_per_epoch": result.seconds / epochs,
        "n_train": int(len(train_rows)),
        "n_val": int(len(val_rows)),
        "targets": target_metrics,
        "mean_val_kge": float(np.mean(finite)) if finite else math.nan,
        "diagnostics": {},
    }
    if mc["kind"] != NEURAL_NETWORK:
        ps = ParameterSet.from_dict(mc["parameters"])
        values = out_parameters
        at_bound = {p.name: float(np.mean((_unit(values[p.name], p) < 0.01) | (_unit(values[p.name], p) > 0.99)))
                    for p in ps if p.role == "neural"}
        diag = {"share_at_bound": at_bound}
        if spec is not None and spec.diagnostics is not None:
            outputs = snap.outputs
            observed = {t: obs[:, j] for j, t in enumerate(targets)}
            diag.update(spec.diagnostics(outputs, values, observed))
        metrics["diagnostics"] = diag
        recovery = parameter_recovery(ps, values, data, val_rows)
        if recovery:
            metrics["parameter_recovery"] = recovery
    return Run(config, model, data, train_rows, val_rows, result, metrics, predictions, parameters)


def parameter_recovery(ps: ParameterSet, values: dict, data: HybridData, val_rows) -> dict:
    """Learned vs true for every learned parameter whose truth the data carry (``true_<name>``).

    Neural: Pearson r and RMSE over all rows, and over validation rows (``r_val``, ``rmse_val``).
    Global: learned value, true value (mean of the truth column) and relative error.
    """
    truth = data.truth_columns()
    rec = {}
    for p in ps:
        if p.name not in truth or p.role == "fixed":
            continue
        true = data.frame[truth[p.name]].to_numpy(dtype=float)
        learned = values[p.name]
        ok = np.isfinite(true)
        if p.role == "global":
            t = float(np.mean(true[ok]))
            lv = float(learned[0])
            rec[p.name] = {"learned": lv, "true": t, "rel_error": abs(lv - t) / abs(t) if t else math.nan}
        else:
            entry = {}
            for suffix, rows in (("", np.arange(len(true))), ("_val", np.asarray(val_rows))):
                m = ok[rows]
                a, b = learned[rows][m], true[rows][m]
                r = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else math.nan
                entry["r" + suffix] = r
                entry["rmse" + suffix] = float(np.sqrt(np.mean((a - b) ** 2))) if len(a) else math.nan
            rec[p.name] = entry
    return rec


@dataclass
class LoadedRun:
    """A run read back from disk: config, metrics and the trained model (eval mode, CPU)."""

    path: Path
    config: dict
    metrics: dict
    model: torch.nn.Module

    def predict(self, frame: pd.DataFrame, at: dict[str, list[float]] | None = None) -> pd.DataFrame:
        """Predictions and parameters for a table with the run's predictor (and forcing) columns.

        Returns one row per input row: every mechanistic parameter, quantities the model derives
        from them (e.g. ``awc``), and ``<target>_pred``. With ``at`` (forcing name -> values, e.g.
        ``{"h": [100, 15000]}``) the forcing comes from that grid instead of the table, giving
        columns ``<target>[<forcing>=<value>]`` for every combination."""
        from itertools import product

        from .training import Tensors

        cols = self.config["columns"]
        mc = self.config["model"]
        at = {k: [float(v) for v in vals] for k, vals in (at or {}).items()}
        unknown = [k for k in at if k not in mc["forcing"]]
        if unknown:
            raise DataError(f"--at: {', '.join(unknown)} is not a forcing of this run "
                            f"({', '.join(mc['forcing']) or 'none'})")
        from_table = [f for f in mc["forcing"] if f not in at]
        needed = list(cols["predictors"]) + [cols["forcing"][f] for f in from_table]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataError(f"input lacks column(s) {', '.join(missing)} that the run was trained with")
        n = len(frame)
        x = torch.tensor(frame[cols["predictors"]].to_numpy(dtype=np.float64), dtype=torch.float32).reshape(n, -1)
        res = pd.DataFrame(index=frame.index)

        def forcing_for(values: dict) -> torch.Tensor:
            blocks = [torch.full((n,), values[f], dtype=torch.float32) if f in values
                      else torch.tensor(frame[cols["forcing"][f]].to_numpy(dtype=np.float64), dtype=torch.float32)
                      for f in mc["forcing"]]
            return torch.stack(blocks, 1) if blocks else torch.zeros(n, 0)

        grid = [dict(zip(at, combo)) for combo in product(*at.values())] if at else [{}]
        for values in grid:
            out = predict(self.model, Tensors(x, forcing_for(values), torch.zeros(n, 0)))
            label = ",".join(f"{k}={v:g}" for k, v in values.items())
            for j, t in enumerate(mc["targets"]):
                res[f"{t}[{label}]" if label else f"{t}_pred"] = out.predictions[:, j].double().numpy()
        for k, v in out.parameters.items():
            res[k] = v.double().numpy()
        spec = _registered(mc.get("name"))
        if spec is not None and spec.derived is not None:
            with torch.inference_mode():
                params = {k: v.double() for k, v in out.parameters.items()}
                for k, v in spec.derived(params).items():
                    res[k] = v.numpy()
        return res


def _registered(name: str | None) -> ModelSpec | None:
    from .models import model_names
    return get_model(name) if name and name in model_names() else None


def load_run(path: str | Path) -> LoadedRun:
    """Read a run directory written by :meth:`Run.save`."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise HybridlabError(f"{path}: not a run directory (no config.json)")
    config = json.loads((path / "config.json").read_text())
    metrics = json.loads((path / "metrics.json").read_text()) if (path / "metrics.json").is_file() else {}
    model = build_model(config["model"])
    state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return LoadedRun(path, config, metrics, model)
