"""The run store: write a run folder, read it back, list the runs under a folder.

A run folder holds ``plan.yaml`` (the plan: re-run it with ``hybridlab train --config``),
``config.json`` (the plan and what it resolved to: the model's variables, its full parameter set
and the data's columns, enough to rebuild the model without the data), ``history.csv``,
``metrics.json``, ``predictions.parquet``, ``parameters.parquet``, ``model.pt`` (a state dict)
and the marker ``.complete``; an ensemble run (``train.members`` > 1) also ``members.parquet``
(each member's parameters and predictions); a run with calibration sites ``calibration.json`` (its
prediction intervals, :mod:`core.uncertainty.calibration`), ``intervals.png`` (their reliability) and
``reliability_by_stratum.png`` (the same per DI bin, AOA side and stratum class); a run with
predictors ``applicability.npz`` (its area of applicability, :mod:`core.spatial.applicability`). A folder
is written beside its target under a
temporary name and renamed into place when every file is there, so a reader never sees half a run.

An output folder is checked before any training (:func:`check_out`): it is resolved, never a
symbolic link, never the current folder or the folder a plan is read from, and it counts as
hybridlab's (to be replaced) only when its marker verifies and it holds nothing but a run's
files. Reading a folder back is :mod:`core.run.loaded`.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

import torch

from core.errors import HybridlabError
from core.formatting import short_repr
from core.run.integrity import MARKER, is_intact, marker_text
from core.io.json_files import write_json
from core.io.outputs import claim_output
from core.run.plan import PLAN_FILE
from core.spatial.applicability import APPLICABILITY_FILE

FORMAT_VERSION = 3
#: columns that hold a point's longitude or latitude
COORDINATE_COLUMNS = ("lon", "lat", "longitude", "latitude", "th_long", "th_lat")
COMPLETE = MARKER
MEMBERS_TABLE = "members.parquet"
CALIBRATION_FILE = "calibration.json"
INTERVALS_FIGURE = "intervals.png"
#: a calibrated run's interval reliability per DI bin, AOA side and stratum class (core.report.reliability)
STRATA_FIGURE = "reliability_by_stratum.png"
RUN_FILES = (PLAN_FILE, "config.json", "history.csv", "metrics.json", "predictions.parquet", "parameters.parquet",
             "model.pt", COMPLETE, MEMBERS_TABLE, CALIBRATION_FILE, INTERVALS_FIGURE, APPLICABILITY_FILE,
             STRATA_FIGURE)


def is_run_folder(path: str | Path) -> bool:
    """True for a complete run folder: its marker is there and matches its files."""
    return is_intact(Path(path))


def owned(folder: Path) -> bool:
    """True when ``folder`` is a run hybridlab wrote and nothing else: its marker verifies and it
    holds only a run's files (so replacing it deletes nothing of anyone else's)."""
    return folder.is_dir() and not folder.is_symlink() and {p.name for p in folder.iterdir()} <= set(RUN_FILES) \
        and is_intact(folder)


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_out(out: str | Path, overwrite: bool = False, reading: Iterable[str | Path] = ()) -> Path:
    """The resolved output folder, checked before any training.

    Parameters
    ----------
    out : str or Path
        The folder to write.
    overwrite : bool
        Replace a folder that holds files hybridlab did not write (never through a symbolic link).
    reading : iterable of str or Path
        Files or folders this command reads (``--config``, ``--data``): ``out`` may not be one of
        them or hold one, nor lie inside a folder being read.

    Returns
    -------
    Path
        The absolute, resolved folder.
    """
    given = Path(out)
    if given.is_symlink():
        raise HybridlabError(f"{out}: is a symbolic link; give the folder it points to ({given.resolve()}) or another "
                             f"--out")
    resolved = given.resolve()
    if _inside(Path.cwd().resolve(), resolved):
        raise HybridlabError(f"{out}: is the current folder (or holds it); give a new folder, e.g. --out run")
    for source in reading:
        source = Path(source).resolve()
        if _inside(source, resolved) or (source.is_dir() and _inside(resolved, source)):
            raise HybridlabError(f"{out}: is, holds or lies inside what is being read ({source}); choose another "
                                 f"--out")
    if resolved.exists() and not resolved.is_dir():
        raise HybridlabError(f"{out}: exists and is not a folder; choose another --out")
    if resolved.is_dir() and any(resolved.iterdir()) and not owned(resolved):
        if not overwrite:
            raise HybridlabError(f"{out}: the folder holds files that are not a hybridlab run (or a run changed after "
                                 f"it was written); choose another --out (or --overwrite to replace them)")
        folders = [p.name for p in resolved.iterdir() if p.is_dir()]
        if folders:  # a run has no sub-folders: this is a tree of someone's work (a home, a project)
            raise HybridlabError(f"{out}: holds folder(s) {', '.join(map(short_repr, folders[:3]))}; --overwrite "
                                 f"replaces a folder of files only, never a tree; choose another --out")
    return resolved


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
    with claim_output(out, what="run folder"):
        _HELD.add(out)
        try:
            yield out
        finally:
            _HELD.discard(out)


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
                                              "targets": data.targets},
            # the points had coordinates (a map of this run needs a grid with a CRS)
            "coordinates": [c for c in COORDINATE_COLUMNS if c in data.frame.columns]}


def write_run(run, out: str | Path, overwrite: bool = False, figures: dict | None = None) -> Path:
    """Write the run folder ``out`` (replacing an earlier run there).

    Parameters
    ----------
    run : Run
        A finished run.
    out : str or Path
        A new or empty folder, or an earlier run's.
    overwrite : bool
        Also replace a folder that holds files hybridlab did not write.
    figures : dict, optional
        File name (one of :data:`RUN_FILES`) -> function that draws it to a path.

    Returns
    -------
    Path
        The folder. Its marker ``.complete`` holds the SHA-256 of plan.yaml, config.json and model.pt,
        checked before anything is loaded.
    """
    out = check_out(out, overwrite)
    with claim(out):
        return _write(run, out, figures)


def _partial_prefix(out: Path) -> str:
    return f".{out.name}.partial-"


def remove_leftovers(out: Path) -> list[Path]:
    """Remove the half-written folders (``.NAME.partial-*``) that a writer of ``out`` left when it
    was killed. Called with the writer's lock held, so none of them belongs to a live writer."""
    leftovers = [p for p in out.parent.glob(_partial_prefix(out) + "*") if p.is_dir() and not p.is_symlink()]
    for folder in leftovers:
        shutil.rmtree(folder, ignore_errors=True)
    return leftovers


def _write(run, out: Path, figures: dict | None = None) -> Path:
    remove_leftovers(out)
    partial = Path(tempfile.mkdtemp(prefix=_partial_prefix(out), dir=out.parent))
    try:
        run.plan.write(partial / PLAN_FILE)
        write_json(partial / "config.json", run_config(run))
        run.history.to_csv(partial / "history.csv", index=False)
        write_json(partial / "metrics.json", run.metrics)
        run.predictions.to_parquet(partial / "predictions.parquet", index=False)
        run.parameters.to_parquet(partial / "parameters.parquet", index=False)
        if getattr(run, "members_table", None) is not None:  # an ensemble's members, one row per member and site
            run.members_table.to_parquet(partial / MEMBERS_TABLE, index=False)
        if getattr(run, "calibration", None) is not None:
            write_json(partial / CALIBRATION_FILE, run.calibration)
        if getattr(run, "applicability", None) is not None:  # the DI's reference and the AOA threshold
            run.applicability.save(partial / APPLICABILITY_FILE)
        for name, draw in (figures or {}).items():
            draw(partial / name)
        torch.save(run.model.state_dict(), partial / "model.pt")
        (partial / COMPLETE).write_text(marker_text(partial))
        if out.exists():
            shutil.rmtree(out)  # a real folder (check_out refused links), owned or given up by --overwrite
        partial.rename(out)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return out


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
    return sorted(marker.parent for marker in folder.rglob(COMPLETE) if is_intact(marker.parent))
