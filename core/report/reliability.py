"""The reliability of a run's intervals by group of validation rows (``reliability_by_stratum.png``
in a calibrated run's folder): nominal level against observed coverage, one line per group,
from metrics.json's ``scores_by`` (:mod:`core.run.strata`). A line under the diagonal: the
intervals of that group are too narrow (outside the AOA, a land-cover class the training saw
little of)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.formatting import label as _label
from core.report.figures import _save, subplots

def _panels(scores_by: dict) -> list[tuple[str, list[dict]]]:
    """(title, groups) of each row of panels: the AOA's two sides with the stratum's classes, then the DI bins."""
    top = list(scores_by.get("aoa") or [])
    stratum = scores_by.get("stratum")
    if stratum:
        top += stratum["groups"]
    title = "AOA" + (f" and {stratum['column']}" if stratum else "")
    panels = [(title, top)] if top else []
    if scores_by.get("di"):
        panels.append(("DI bins (validation quantiles)", scores_by["di"]))
    return panels


def calibrated_targets(scores_by: dict) -> list[str]:
    """The targets whose groups carry a coverage curve."""
    groups = [g for _, gs in _panels(scores_by) for g in gs]
    return [t for t in (groups[0]["targets"] if groups else {})
            if any(np.isfinite(g["targets"][t].get("coverage") or [np.nan]).any() for g in groups)]


def strata_reliability(scores_by: dict, path: Path, title: str = "") -> Path:
    """Draw the figure: per calibrated target a column, per panel (AOA and stratum; DI bins) a row.

    Parameters
    ----------
    scores_by : dict
        metrics.json's ``scores_by`` of a calibrated run (``levels`` and each group's ``coverage``).
    path : Path
        The PNG to write.
    title : str
        The figure's title.

    Returns
    -------
    Path
    """
    panels, targets = _panels(scores_by), calibrated_targets(scores_by)
    levels = scores_by.get("levels") or []
    fig, axes = subplots(max(len(panels), 1), max(len(targets), 1), figsize=(3.4 * max(len(targets), 1),
                         3.2 * max(len(panels), 1)), squeeze=False)
    for i, (panel, groups) in enumerate(panels):
        for j, target in enumerate(targets):
            ax = axes[i, j]
            ax.plot([0, 1], [0, 1], color="k", lw=1)
            for group in groups:
                coverage = np.asarray(group["targets"][target].get("coverage") or [], dtype=float)
                if len(coverage) and np.isfinite(coverage).any():
                    ax.plot(levels, coverage, marker="o", ms=3,
                            label=f"{group['group']} (n={group['targets'][target]['n']})")
            ax.set_title(f"{_label(target)}: {panel}", fontsize=9)
            ax.set_xlabel("nominal level")
            ax.set_ylabel("observed coverage (val)")
            ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path, title)


__all__ = ["calibrated_targets", "strata_reliability"]
