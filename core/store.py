"""The run store: write a run folder, read it back, list the runs under a folder.

A run folder holds ``plan.yaml`` (the plan: re-run it with ``hybridlab train --config``),
``config.json`` (the plan and what it resolved to: the model's variables, its full parameter set
and the data's columns, enough to rebuild the model without the data), ``history.csv``,
``metrics.json``, ``predictions.parquet``, ``parameters.parquet``, ``model.pt`` (a state dict)
and the marker ``.complete``. A folder is written beside its target under a temporary name and
renamed into place when every file is there, so a reader never sees half a run.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from filelock import FileLock, Timeout

from .errors import HybridlabError
from .json_files import write_json
from .models import build_model
from .plan import PLAN_FILE, RunPlan
from .prediction import predict_table

FORMAT_VERSION = 2
COMPLETE = ".complete"
RUN_FILES = (PLAN_FILE, "config.json", "history.csv", "metrics.json", "predictions.parquet", "parameters.parquet",
             "model.pt", COMPLETE)


def is_run_folder(path: str | Path) -> bool:
    """True for a complete run folder (its marker is there)."""
    return (Path(path) / COMPLETE).is_file()


def check_out(out: str | Path, overwrite: bool = False) -> Path:
    """Refuse an output folder that holds files hybridlab did not write (before any training),
    unless ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise HybridlabError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not is_run_folder(out) and not overwrite:
        raise HybridlabError(f"{out}: the folder holds files that are not a hybridlab run; choose another --out "
                             f"(or --overwrite to replace them)")
    return out


#: run folders this process holds the writer's lock of
_HELD: set[Path] = set()


@contextlib.contextmanager
def claim(out: str | Path):
    """Hold the writer's lock of run folder ``out``: the lock file ``.NAME.lock`` beside it, locked
    through :mod:`filelock` (on every OS; released by the system if the process dies). A second
    writer fails at once."""
    out = Path(out).resolve()
    if out in _HELD:
        yield out
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.parent / f".{out.name}.lock"
    lock = FileLock(path, is_singleton=False, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise HybridlabError(f"{out}: another hybridlab process is writing this run folder; wait for it to "
                             f"finish or choose another --out")
    _HELD.add(out)
    try:
        yield out
    finally:
        _HELD.discard(out)
        path.unlink(missing_ok=True)  # while still held, so no folder is left with a stale lock file
        lock.release()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_config(run) -> dict:
    """config.json of a run: the plan and what it resolved to.

    Parameters
    ----------
    run : Run
        A finished run.

    Returns
    -------
    dict
        ``format_version``, ``plan``, ``model`` (enough to rebuild it), ``data`` and ``columns``.
    """
    data = run.data
    return {"format_version": FORMAT_VERSION, "plan": run.plan.to_dict(), "model": run.model_config,
            "data": data.source, "columns": {"id": data.id, "predictors": data.predictors, "forcing": data.forcing,
                                              "targets": data.targets}}


def write_run(run, out: str | Path, overwrite: bool = False) -> Path:
    """Write the run folder ``out`` (replacing an earlier run there).

    Parameters
    ----------
    run : Run
        A finished run.
    out : str or Path
        A new or empty folder, or an earlier run's.
    overwrite : bool
        Also replace a folder that holds files hybridlab did not write.

    Returns
    -------
    Path
        The folder. Its marker ``.complete`` holds the SHA-256 of model.pt, checked before it is loaded.
    """
    out = check_out(out, overwrite)
    with claim(out):
        return _write(run, out)


def _write(run, out: Path) -> Path:
    partial = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        run.plan.write(partial / PLAN_FILE)
        write_json(partial / "config.json", run_config(run))
        run.history.to_csv(partial / "history.csv", index=False)
        write_json(partial / "metrics.json", run.metrics)
        run.predictions.to_parquet(partial / "predictions.parquet", index=False)
        run.parameters.to_parquet(partial / "parameters.parquet", index=False)
        torch.save(run.model.state_dict(), partial / "model.pt")
        (partial / COMPLETE).write_text(json.dumps({"sha256": {"model.pt": _sha256(partial / "model.pt")}}))
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return out


@dataclass
class LoadedRun:
    """A run read back from its folder (:func:`load_run`).

    Parameters
    ----------
    path : Path
        The run folder.
    plan : RunPlan
        The plan it ran (plan.yaml).
    config : dict
        config.json: the plan and what it resolved to.
    metrics : dict
        metrics.json.
    model : torch.nn.Module
        The trained model, in eval mode on the CPU.
    """

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
        return predict_table(self.model, self.config, frame, at)


def _check_model_file(path: Path) -> None:
    """Refuse a model.pt that is not the one written with this run (checked before unpickling)."""
    try:
        marker = json.loads((path / COMPLETE).read_text() or "{}")
    except json.JSONDecodeError:
        raise HybridlabError(f"{path / COMPLETE}: the completion marker is damaged; train the run again") from None
    expected = (marker.get("sha256") or {}).get("model.pt") if isinstance(marker, dict) else None
    if not (path / "model.pt").is_file():
        raise HybridlabError(f"{path}: model.pt is missing; train the run again")
    if expected is not None and _sha256(path / "model.pt") != expected:
        raise HybridlabError(f"{path / 'model.pt'}: not the model written with this run (its checksum differs); "
                             f"the folder was changed after it was written")


def load_run(path: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`write_run`. Nothing in the folder names code: the model
    is found through the registry by name, and model.pt (a state dict) is checked against its
    checksum and then loaded with ``weights_only=True``.

    Parameters
    ----------
    path : str or Path
        A complete run folder.

    Returns
    -------
    LoadedRun
        Its plan, config, metrics and trained model (eval mode, CPU).
    """
    path = Path(path)
    if not path.is_dir():
        raise HybridlabError(f"{path}: not a run directory")
    if not (path / "config.json").is_file():
        raise HybridlabError(f"{path}: not a run directory (no config.json)")
    if not is_run_folder(path):
        raise HybridlabError(f"{path}: the run folder is incomplete (no {COMPLETE} marker); train it again")
    try:
        config = json.loads((path / "config.json").read_text())
        model_config = config["model"]
        plan = RunPlan.read(path / PLAN_FILE)
        model = build_model(model_config)
    except json.JSONDecodeError as e:
        raise HybridlabError(f"{path / 'config.json'}: invalid JSON ({e.msg}, line {e.lineno})") from None
    except (KeyError, TypeError, AttributeError) as e:
        raise HybridlabError(f"{path / 'config.json'}: not a hybridlab run configuration ({type(e).__name__}: {e})") \
            from None
    metrics = json.loads((path / "metrics.json").read_text()) if (path / "metrics.json").is_file() else {}
    _check_model_file(path)
    try:
        with warnings.catch_warnings():  # a hostile file's pickle protocol: the error below says enough
            warnings.simplefilter("ignore")
            state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:  # noqa: BLE001 - truncated, foreign or tampered weights: one line, no traceback
        first = " ".join(str(e).split())[:160]
        raise HybridlabError(f"{path / 'model.pt'}: cannot be loaded as this run's model ({type(e).__name__}: "
                             f"{first})") from None
    model.eval()
    return LoadedRun(path, plan, config, metrics, model)


def list_runs(folder: str | Path) -> list[Path]:
    """Complete run folders at or below ``folder``.

    Parameters
    ----------
    folder : str or Path
        Where to look (searched recursively).

    Returns
    -------
    list of Path
        Folders holding a ``.complete`` marker, sorted by path.
    """
    folder = Path(folder)
    return sorted(marker.parent for marker in folder.rglob(COMPLETE))
