"""A run folder read back: :func:`load_run` -> :class:`LoadedRun`.

Nothing is built or unpickled before the folder is verified (:mod:`core.run.integrity`): the marker's
checksums, then config.json and plan.yaml within the bounds of :mod:`core.io.documents`, then
model.pt's archive, then the sizes config.json declares against the tensors model.pt holds.
Only then is the model built (through the registry, by name: no code is named in a folder) and
the weights loaded with ``weights_only=True``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from core.io.documents import read_document
from core.errors import HybridlabError
from core.formatting import short_text
from core.run.integrity import check_calibration, check_declared_sizes, check_finite, check_model_archive, verify
from core.hybrid.members import MemberModel
from core.models import build_model
from core.run.plan import PLAN_FILE, RunPlan
from core.run.prediction import FittedRun
from core.run.store import CALIBRATION_FILE
from core.spatial.applicability import APPLICABILITY_FILE, Applicability


@dataclass
class LoadedRun(FittedRun):
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
    calibration : dict, optional
        calibration.json (a run with calibration sites), else None.
    applicability : Applicability, optional
        applicability.npz (:mod:`core.spatial.applicability`), else None (a run without predictors, or
        one written before it).

    ``predict(rows)`` (:class:`core.run.prediction.FittedRun`) gives what the run in memory gave.
    """

    path: Path
    plan: RunPlan
    config: dict
    metrics: dict
    model: torch.nn.Module
    calibration: dict | None = None
    applicability: Applicability | None = None

    @property
    def history(self) -> pd.DataFrame:
        return pd.read_csv(self.path / "history.csv")


def _read_state(path: Path) -> dict:
    check_model_archive(path)
    try:
        with warnings.catch_warnings():  # a hostile file's pickle protocol: the error below says enough
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated, foreign or tampered weights: one line, no traceback
        raise HybridlabError(f"{path}: cannot be loaded as this run's model ({type(e).__name__}: "
                             f"{short_text(e, 160)})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise HybridlabError(f"{path}: not a state dict of tensors; refused")
    check_finite(path, state)
    return state


def _build(model_config: dict) -> torch.nn.Module:
    """The model a config.json describes: one, or an ensemble's stacked members."""
    members = model_config.get("members", 1)
    if members == 1 and "member_seeds" not in model_config:
        return build_model(model_config)
    return MemberModel([build_model(model_config) for _ in range(members)])


def _model_config(path: Path, config) -> dict:
    model_config = config.get("model") if isinstance(config, dict) else None
    needed = ("name", "predictors", "forcing", "targets", "parameters", "network")
    if not isinstance(model_config, dict) or any(key not in model_config for key in needed):
        raise HybridlabError(f"{path / 'config.json'}: not a hybridlab run configuration (no complete 'model' block)")
    return model_config


def load_run(path: str | Path) -> LoadedRun:
    """Read a run folder written by :func:`core.run.store.write_run`, verified before anything is built.

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
    verify(path)
    config = read_document(path / "config.json")
    model_config = _model_config(path, config)
    plan = RunPlan.read(path / PLAN_FILE)
    metrics = read_document(path / "metrics.json") if (path / "metrics.json").is_file() else {}
    state = _read_state(path / "model.pt")
    check_declared_sizes(path / "model.pt", state, model_config)
    try:
        model = _build(model_config)
        model.load_state_dict(state)
    except HybridlabError as e:
        raise HybridlabError(f"{path / 'config.json'}: {e}") from None
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as e:
        raise HybridlabError(f"{path}: config.json and model.pt do not describe one model ({type(e).__name__}: "
                             f"{short_text(e, 160)})") from None
    model.eval()
    calibration = None
    if (path / CALIBRATION_FILE).is_file():
        calibration = check_calibration(path / CALIBRATION_FILE, read_document(path / CALIBRATION_FILE))
    applicability = Applicability.load(path / APPLICABILITY_FILE) if (path / APPLICABILITY_FILE).is_file() else None
    return LoadedRun(path, plan, config, metrics, model, calibration, applicability)
