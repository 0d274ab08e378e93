"""The run store: write a run folder, read it back, list the runs under a folder.

A run folder holds ``plan.yaml`` (the plan: re-run it with ``hybridlab train --config``),
``config.json`` (the plan and what it resolved to: the model's variables, its full parameter set
and the data's columns, enough to rebuild the model without the data), ``history.csv``,
``metrics.json``, ``predictions.parquet``, ``parameters.parquet``, ``model.pt`` (a state dict)
and the marker ``.complete``. A folder is written beside its target under a temporary name and
renamed into place when every file is there, so a reader never sees half a run.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from .errors import HybridlabError
from .evaluation import Run, json_safe
from .execute import build_model
from .plan import PLAN_FILE, RunPlan

FORMAT_VERSION = 2
COMPLETE = ".complete"
RUN_FILES = (PLAN_FILE, "config.json", "history.csv", "metrics.json", "predictions.parquet", "parameters.parquet",
             "model.pt", COMPLETE)


def is_run_folder(path: str | Path) -> bool:
    """True for a complete run folder (its marker is there)."""
    return (Path(path) / COMPLETE).is_file()


def check_out(out: str | Path) -> Path:
    """Refuse an output folder that holds files hybridlab did not write (before any training)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HybridlabError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not is_run_folder(out):
        raise HybridlabError(f"{out}: the folder holds files that are not a hybridlab run; choose another --out")
    return out


def run_config(run: Run) -> dict:
    """config.json of a run: the plan and what it resolved to."""
    data = run.data
    return {"format_version": FORMAT_VERSION, "plan": run.plan.to_dict(), "model": run.model_config,
            "data": data.source, "columns": {"id": data.id, "predictors": data.predictors, "forcing": data.forcing,
                                              "targets": data.targets}}


def write_run(run: Run, out: str | Path) -> Path:
    """Write the run folder ``out`` (replacing an earlier run there) and return its path."""
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        run.plan.write(partial / PLAN_FILE)
        (partial / "config.json").write_text(json.dumps(run_config(run), indent=2))
        run.history.to_csv(partial / "history.csv", index=False)
        (partial / "metrics.json").write_text(json.dumps(json_safe(run.metrics), indent=2))
        run.predictions.to_parquet(partial / "predictions.parquet", index=False)
        run.parameters.to_parquet(partial / "parameters.parquet", index=False)
        torch.save(run.model.state_dict(), partial / "model.pt")
        (partial / COMPLETE).write_text("")
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return out


@dataclass
class LoadedRun:
    """A run read back from its folder: plan, config, metrics and the trained model (eval mode, CPU)."""

    path: Path
    plan: RunPlan
    config: dict
    metrics: dict
    model: torch.nn.Module

    @property
    def history(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "history.csv")

    def predict(self, frame: pd.DataFrame, at: dict[str, list[float]] | None = None) -> pd.DataFrame:
        """Parameters, derived quantities and predictions for new rows (see :func:`core.prediction.predict_table`)."""
        from .prediction import predict_table

        return predict_table(self.model, self.config, frame, at)


def load_run(path: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`write_run`."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise HybridlabError(f"{path}: not a run directory (no config.json)")
    if not is_run_folder(path):
        raise HybridlabError(f"{path}: the run folder is incomplete (no {COMPLETE} marker); train it again")
    try:
        config = json.loads((path / "config.json").read_text())
    except json.JSONDecodeError as e:
        raise HybridlabError(f"{path / 'config.json'}: invalid JSON ({e.msg}, line {e.lineno})") from None
    plan = RunPlan.read(path / PLAN_FILE)
    metrics = json.loads((path / "metrics.json").read_text()) if (path / "metrics.json").is_file() else {}
    model = build_model(config["model"])
    model.load_state_dict(torch.load(path / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    return LoadedRun(path, plan, config, metrics, model)


def list_runs(folder: str | Path) -> list[Path]:
    """Complete run folders at or below ``folder``, sorted by path."""
    folder = Path(folder)
    return sorted(marker.parent for marker in folder.rglob(COMPLETE))
