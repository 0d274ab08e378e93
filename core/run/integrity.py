"""What makes a run folder trustworthy before anything in it is built or loaded.

The marker ``.complete`` is written last and holds the SHA-256 of every file that changes a
prediction: ``plan.yaml``, ``config.json`` (the model's sizes and the column map) and
``model.pt``. A folder whose marker is missing, damaged or does not match its files is not a run
(:func:`verify`). Before the weights are unpickled, :func:`check_model_archive` refuses a
model.pt whose zip entries are compressed (torch never writes them so; a small file could
expand to gigabytes); before the model is built, :func:`check_declared_sizes` compares the layer
sizes config.json declares with the tensors model.pt holds; after loading,
:func:`check_finite` refuses weights that are NaN or infinite.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import torch

from core.errors import HybridlabError
from core.io.checksums import sha256
from core.formatting import short_repr

MARKER = ".complete"
MARKER_FORMAT = 3
#: the files whose checksums the marker carries: everything that changes a prediction
CHECKED = ("plan.yaml", "config.json", "model.pt")
#: checked as well where the run has them (a calibrated run's intervals, its area of applicability)
CHECKED_IF_PRESENT = ("calibration.json", "applicability.npz")
#: what verdicts and reports are read from: listed by markers since #37 and checked when listed
#: and present (a marker written before lists none of them; metrics.json may be left out of a copy)
CHECKED_WHEN_LISTED = ("metrics.json", "parameters.parquet", "members.parquet", "predictions.parquet")
#: the largest model.pt accepted (bytes): far above the engine's network caps
MAX_MODEL_BYTES = 2 * 1024 ** 3
#: the most members a run folder may declare (TrainConfig's limit; this layer sits below it)
MAX_DECLARED_MEMBERS = 256


def marker_text(folder: Path) -> str:
    """The marker's content for the files now in ``folder``."""
    names = list(CHECKED) + [name for name in (*CHECKED_IF_PRESENT, *CHECKED_WHEN_LISTED) if (folder / name).is_file()]
    return json.dumps({"format": MARKER_FORMAT, "sha256": {name: sha256(folder / name) for name in names}})


def verify(folder: Path) -> None:
    """Raise a one-line HybridlabError unless ``folder`` holds a marker that matches its files."""
    path = folder / MARKER
    if not path.is_file():
        raise HybridlabError(f"{folder}: the run folder is incomplete (no {MARKER} marker); train it again")
    try:
        marker = json.loads(path.read_text()[:10_000] or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        marker = None
    sums = marker.get("sha256") if isinstance(marker, dict) else None
    if not isinstance(sums, dict) or any(not isinstance(sums.get(name), str) for name in CHECKED):
        raise HybridlabError(f"{path}: the completion marker is damaged or from an older hybridlab (it must hold the "
                             f"checksums of {', '.join(CHECKED)}); train the run again")
    present = [name for name in CHECKED_IF_PRESENT if name in sums or (folder / name).is_file()]
    present += [name for name in CHECKED_WHEN_LISTED if name in sums and (folder / name).is_file()]
    for name in (*CHECKED, *present):
        if not (folder / name).is_file():
            raise HybridlabError(f"{folder}: {name} is missing; train the run again")
        if not isinstance(sums.get(name), str):
            raise HybridlabError(f"{folder / name}: was not written with this run (the marker does not list it); "
                                 f"the folder was changed after it was written")
        if sha256(folder / name) != sums[name]:
            raise HybridlabError(f"{folder / name}: not the file written with this run (its checksum differs); "
                                 f"the folder was changed after it was written")


def is_intact(folder: Path) -> bool:
    """True when :func:`verify` passes."""
    try:
        verify(folder)
    except (HybridlabError, OSError):
        return False
    return True


def check_model_archive(path: Path) -> None:
    """Refuse a model.pt that is too large, not a zip archive, or whose entries are compressed."""
    size = path.stat().st_size
    if size > MAX_MODEL_BYTES:
        raise HybridlabError(f"{path}: {size / 2 ** 20:,.0f} MB is more than a model file may hold")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise HybridlabError(f"{path}: not a model file written by hybridlab (not a torch archive)") from None
    packed = [e.filename for e in entries if e.compress_type != zipfile.ZIP_STORED]
    if packed:
        raise HybridlabError(f"{path}: holds compressed entries ({packed[0]}), which torch never writes; refused")
    if sum(e.file_size for e in entries) > size + 2 ** 20:
        raise HybridlabError(f"{path}: its entries claim more bytes than the file holds; refused")


def check_declared_sizes(path: Path, state: dict, model_config: dict) -> None:
    """The hidden layer widths and the number of inputs that config.json declares must be those of
    the weights in model.pt (so building the model takes no more memory than the file holds)."""
    hidden = list((model_config.get("network") or {}).get("hidden") or [])
    members = model_config.get("members", 1)
    if not isinstance(members, int) or isinstance(members, bool) or not 1 <= members <= MAX_DECLARED_MEMBERS:
        raise HybridlabError(f"{path}: config.json declares {short_repr(members)} members; refused")
    if members == 1:
        weights = [tensor for name, tensor in state.items() if name.endswith(".weight") and tensor.dim() == 2]
    else:  # an ensemble's stacked weights (members, out, in)
        stacked = [tensor for name, tensor in state.items() if name.startswith("net.weights.") and tensor.dim() == 3]
        if any(int(tensor.shape[0]) != members for tensor in stacked):
            raise HybridlabError(f"{path}: config.json declares {members} members but model.pt holds others; the folder "
                                 f"was changed after it was written")
        weights = [tensor[0] for tensor in stacked]
    widths = [int(w.shape[0]) for w in weights]
    parameters = model_config.get("parameters") or []
    has_network = not parameters or any(isinstance(p, dict) and p.get("role") == "neural" for p in parameters)
    if not has_network and not weights:
        return  # a hybrid with no neural parameter builds no network
    if widths[:-1] != hidden:
        raise HybridlabError(f"{path}: config.json declares hidden layers {hidden[:8]} but model.pt holds "
                             f"{widths[:-1][:8]}; the folder was changed after it was written")
    inputs = len(model_config.get("predictors") or [])
    allowed = {inputs, inputs + len(model_config.get("forcing") or [])}
    if weights and int(weights[0].shape[1]) not in allowed:
        raise HybridlabError(f"{path}: config.json declares {inputs} predictors but model.pt's first layer takes "
                             f"{int(weights[0].shape[1])} inputs; the folder was changed after it was written")


def check_finite(path: Path, state: dict) -> None:
    """Refuse weights that are NaN or infinite (they would predict NaN everywhere)."""
    bad = [name for name, tensor in state.items() if tensor.is_floating_point() and not torch.isfinite(tensor).all()]
    if bad:
        raise HybridlabError(f"{path}: {len(bad)} tensor(s) hold NaN or infinite values (first {bad[0]}); refused")


def _check_scores(scores, n, what: str, refuse) -> None:
    """Conformal scores as calibration writes them: a non-empty list of finite numbers >= 0 (never
    booleans), in ascending order, as many as the entry's ``n``."""
    if not isinstance(scores, list) or not scores or not all(
            isinstance(s, (int, float)) and not isinstance(s, bool) and abs(s) != float("inf") and s == s
            for s in scores):
        refuse(f"{what}: scores must be a list of finite numbers")
    if min(scores) < 0:
        refuse(f"{what}: scores must be >= 0 (distances from the prediction), got {short_repr(min(scores))}")
    if any(b < a for a, b in zip(scores, scores[1:])):
        refuse(f"{what}: scores must be in ascending order, as calibration writes them")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n != len(scores)):
        refuse(f"{what}: n must be the number of scores ({len(scores)}), got {short_repr(n)}")


def check_calibration(path: Path, calibration) -> dict:
    """calibration.json as :mod:`core.uncertainty.calibration` writes it, or a one-line HybridlabError: a
    known method and source, and per calibrated target a finite noise sd and finite scores."""
    def refuse(what: str):
        raise HybridlabError(f"{path}: {what}; train the run again")

    if not isinstance(calibration, dict) or not isinstance(calibration.get("targets"), dict):
        refuse("not a calibration file (no 'targets')")
    if calibration.get("source") not in ("members", "mc_dropout", "none"):
        refuse(f"unknown source {short_repr(calibration.get('source'))}")
    passes = calibration.get("passes")
    if passes is not None and (not isinstance(passes, int) or not 1 <= passes <= 10_000):
        refuse(f"passes must be a whole number in 1..10000, got {short_repr(passes)}")
    for target, entry in calibration["targets"].items():
        if not isinstance(entry, dict) or not entry.get("calibrated"):
            continue
        scores, noise = entry.get("scores"), entry.get("noise_sd")
        if entry.get("method") not in ("conformal", "normalised"):
            refuse(f"target {short_repr(target)}: unknown method {short_repr(entry.get('method'))}")
        if not isinstance(noise, (int, float)) or not noise >= 0 or noise == float("inf"):
            refuse(f"target {short_repr(target)}: noise_sd must be a finite number >= 0")
        if entry.get("noise_model", "absolute") not in ("absolute", "relative"):
            refuse(f"target {short_repr(target)}: unknown noise_model {short_repr(entry.get('noise_model'))}")
        floor = entry.get("noise_floor", 0.0)
        if not isinstance(floor, (int, float)) or not 0 <= floor < float("inf"):
            refuse(f"target {short_repr(target)}: noise_floor must be a finite number >= 0")
        _check_scores(scores, entry.get("n"), f"target {short_repr(target)}", refuse)
    return calibration
