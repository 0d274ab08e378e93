"""A run's scores by group of rows: per bin of the dissimilarity index (DI), inside and outside the
area of applicability (AOA) and per class of a user's stratum column (land cover, country), as a
practitioner reads CAST's AOA beside a map: does the error grow with the DI, do the intervals
still cover outside the AOA, does one land-cover class carry the error?

Each group gets, per target, the number of observed rows ``n``, the KGE of the point prediction
and, for a calibrated run, the coverage of the reported interval (``picp``), the mean CRPS and
the coverage at each reliability level (``coverage``). A target with fewer than
:data:`MIN_ROWS` observed rows in a group has its ``n`` and NaN scores: a KGE of five points is
noise. Pure NumPy on arrays; :mod:`core.run.strata` applies it to a finished run.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.metrics import kge

#: fewer observed rows of a target than this in a group: NaN scores (n is kept)
MIN_ROWS = 10
#: equal-count bins of the validation rows' DI
DI_BINS = 4
#: the most classes a stratum column may have (more: it is not a stratum but a measurement)
MAX_CLASSES = 50


def di_bins(di: np.ndarray, bins: int = DI_BINS) -> tuple[np.ndarray, list[dict]]:
    """Equal-count bins of the DI (its quantiles; a bin with no width merges into the next).

    Parameters
    ----------
    di : numpy.ndarray, shape (n,)
        Each row's DI (dimensionless; NaN: in no bin).
    bins : int
        Bins asked for.

    Returns
    -------
    labels : numpy.ndarray of object, shape (n,)
        Each row's bin label (``DI 1/4`` ...), None where the DI is NaN.
    groups : list of dict
        Per bin in DI order: ``group`` (its label), ``di_low`` and ``di_high`` (its edges).
    """
    labels = np.full(len(di), None, dtype=object)
    known = np.isfinite(di)
    if not known.any():
        return labels, []
    edges = np.unique(np.quantile(di[known], np.linspace(0, 1, bins + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0]])
    index = np.clip(np.searchsorted(edges, di[known], side="right") - 1, 0, len(edges) - 2)
    count = len(edges) - 1
    names = [f"DI {k + 1}/{count}" for k in range(count)]
    labels[known] = np.array(names, dtype=object)[index]
    return labels, [{"group": names[k], "di_low": float(edges[k]), "di_high": float(edges[k + 1])}
                    for k in range(count)]


def _target_scores(y: np.ndarray, mu: np.ndarray, rows: dict | None, level: float, levels: list[float]) -> dict:
    """One target's scores on one group's rows (``rows``: that target's row scores, or None)."""
    known = np.isfinite(y)
    n = int(known.sum())
    scores = {"n": n, "kge": math.nan}
    if rows is not None:
        scores.update(picp=math.nan, crps=math.nan, coverage=[math.nan] * len(levels))
    if n < MIN_ROWS:
        return scores
    scores["kge"] = kge(y, mu)["kge"]
    if rows is not None:
        scores["crps"] = float(np.mean(rows["crps"][known]))
        scores["coverage"] = [float(np.mean(rows["covered"][lv][known])) if lv in rows["covered"] else math.nan
                              for lv in levels]
        scores["picp"] = float(np.mean(rows["covered"][level][known])) if level in rows["covered"] else math.nan
    return scores


def group_scores(labels: np.ndarray, groups: list[dict], observed: np.ndarray, predicted: np.ndarray,
                 targets: list[str], rows: dict | None = None, level: float = 0.9, levels=()) -> list[dict]:
    """The scores of each group of rows.

    Parameters
    ----------
    labels : numpy.ndarray, shape (n,)
        Each row's group label (None: in no group).
    groups : list of dict
        One per group, in report order, each with its ``group`` label (other keys are kept).
    observed, predicted : numpy.ndarray, shape (n, T)
        Observations (NaN where missing) and point predictions, target units.
    targets : list of str
    rows : dict, optional
        Per target the row scores of :func:`core.uncertainty.rows.row_scores` on the same rows
        (None: an uncalibrated run, KGE only).
    level : float
        The reported interval's level (``picp``).
    levels : sequence of float
        The levels of ``coverage``.

    Returns
    -------
    list of dict
        Each group with ``rows`` (its rows) and ``targets``: target -> scores.
    """
    result = []
    for group in groups:
        member = np.array([label == group["group"] for label in labels], dtype=bool)
        per_target = {}
        for j, target in enumerate(targets):
            own = None
            if rows is not None and target in rows:
                own = {"crps": rows[target]["crps"][member],
                       "covered": {lv: c[member] for lv, c in rows[target]["covered"].items()}}
            per_target[target] = _target_scores(observed[member, j], predicted[member, j], own, level, list(levels))
        result.append({**group, "rows": int(member.sum()), "targets": per_target})
    return result


def _one_hot(frame: pd.DataFrame, columns: list[str], where: str) -> np.ndarray:
    """Each row's class from indicator columns (0/1): the name of the one that is 1."""
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = [c for j, c in enumerate(columns) if not np.isin(values[np.isfinite(values[:, j]), j], (0, 1)).all()]
    if bad:
        raise DataError(f"{where}: --stratum column {short_repr(bad[0])} is not 0/1; several columns must be "
                        f"indicators of one class each (or give one column of classes)")
    several = np.nansum(values, axis=1) > 1
    if several.any():
        row = int(np.flatnonzero(several)[0])
        raise DataError(f"{where}: --stratum {','.join(columns)}: row {row} is 1 in more than one of them; the "
                        f"indicators must name one class per row")
    labels = np.full(len(frame), None, dtype=object)
    hit = np.nan_to_num(values) == 1
    for j, column in enumerate(columns):
        labels[hit[:, j]] = column
    return labels


def stratum_labels(frame: pd.DataFrame, stratum: str, where: str) -> np.ndarray:
    """Each row's class of the stratum ``stratum``: one column of classes, or comma-separated 0/1
    indicator columns (``lc_crop,lc_grass,lc_wood``: a row's class is the column that is 1).

    Parameters
    ----------
    frame : pandas.DataFrame
        The run's data.
    stratum : str
        The column, or the indicator columns joined by commas.
    where : str
        The data's name, for messages.

    Returns
    -------
    numpy.ndarray of object, shape (n,)
        The class (as text) of every row; None where it is missing.
    """
    columns = [c.strip() for c in str(stratum).split(",")]
    missing = [c for c in columns if c not in frame.columns]
    if missing or not all(columns):
        shown = ", ".join(map(str, list(frame.columns)[:8]))
        raise DataError(f"{where}: --stratum column {short_repr(missing[0] if missing else stratum)} not found "
                        f"(its columns: {shown}{', ...' if len(frame.columns) > 8 else ''})")
    if len(columns) > 1:
        return _one_hot(frame, columns, where)
    values = frame[columns[0]]
    classes = values.dropna().unique()
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{where}: --stratum column {short_repr(columns[0])} has {len(classes):,} distinct values, "
                        f"more than {MAX_CLASSES}; a stratum needs classes (land cover, country), not a measurement")
    return np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)


def stratum_groups(labels: np.ndarray) -> list[dict]:
    """One group per class among ``labels``, sorted by name."""
    return [{"group": name} for name in sorted({label for label in labels if label is not None})]


__all__ = ["DI_BINS", "MAX_CLASSES", "MIN_ROWS", "di_bins", "group_scores", "stratum_groups", "stratum_labels"]
