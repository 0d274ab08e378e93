"""metrics.json's ``scores_by``: a finished run's validation scores per DI bin, inside and outside
the area of applicability and per class of the plan's ``stratum`` column
(:mod:`core.spatial.scores`), with the row-wise interval scores of :mod:`core.uncertainty.rows` for a
calibrated run.

    "scores_by": {"split": "val", "level": 0.9, "levels": [0.1, ..., 0.95], "min_rows": 10,
                  "aoa": [{"group": "inside", "rows": .., "targets": {"soc": {"n", "kge", "picp",
                          "crps", "coverage"}}}, {"group": "outside", ...}],
                  "di": [{"group": "DI 1/4", "di_low", "di_high", "rows", "targets"}, ...],
                  "stratum": {"column": "lc", "groups": [{"group": "crop", ...}, ...]}}

``aoa`` and ``di`` need the run's applicability (a run with predictors); ``stratum`` a plan with
one; ``picp``, ``crps`` and ``coverage`` a calibrated run.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets import HybridData
from core.spatial.applicability import Applicability
from core.spatial.scores import MIN_ROWS, di_bins, group_scores, stratum_groups, stratum_labels
from core.training.tensors import Tensors
from core.uncertainty.registry import RELIABILITY_LEVELS
from core.uncertainty.rows import row_scores


def _observed_predicted(predictions: pd.DataFrame, rows: np.ndarray, targets: list[str]) -> tuple:
    observed = predictions[[f"{t}_obs" for t in targets]].to_numpy(dtype=np.float64)[rows]
    predicted = predictions[[f"{t}_pred" for t in targets]].to_numpy(dtype=np.float64)[rows]
    return observed, predicted


def stratified_scores(model, data: HybridData, tensors: Tensors, predictions: pd.DataFrame, targets: list[str],
                      val_rows: np.ndarray, *, calibration: dict | None = None,
                      applicability: Applicability | None = None, stratum: str | None = None) -> dict | None:
    """The ``scores_by`` block of metrics.json (see the module docstring), or None when there is
    nothing to group by (no applicability and no stratum).

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (CPU).
    data : HybridData
        The data it was trained on.
    tensors : Tensors
        The validation rows' tensors (observations in ``y``).
    predictions : pandas.DataFrame
        The run's predictions of every row (``<target>_obs``, ``<target>_pred``).
    targets : list of str
    val_rows : numpy.ndarray
        Row positions of the validation split in ``data``.
    calibration : dict, optional
        calibration.json of a calibrated run.
    applicability : Applicability, optional
        The run's DI reference and AOA threshold.
    stratum : str, optional
        The plan's stratum column (or comma-separated indicator columns).
    """
    if applicability is None and stratum is None or not len(val_rows):
        return None
    observed, predicted = _observed_predicted(predictions, val_rows, targets)
    rows = row_scores(model, tensors, targets, calibration) if calibration is not None else None
    level = calibration["level"] if calibration is not None else None
    score = lambda labels, groups: group_scores(labels, groups, observed, predicted, targets, rows,  # noqa: E731
                                                level or 0.9, RELIABILITY_LEVELS)
    result = {"split": "val", "level": level, "levels": list(RELIABILITY_LEVELS) if rows is not None else None,
              "min_rows": MIN_ROWS}
    if applicability is not None:
        x = data.frame[applicability.predictors].iloc[val_rows].to_numpy(dtype=np.float64)
        di = applicability.dissimilarity(x)
        inside = np.where(np.isfinite(di), np.where(applicability.inside(np.nan_to_num(di)), "inside", "outside"),
                          "outside").astype(object)
        result["aoa"] = score(inside, [{"group": "inside"}, {"group": "outside"}])
        result["aoa_threshold"] = applicability.threshold
        labels, groups = di_bins(di)
        result["di"] = score(labels, groups)
    if stratum is not None:
        labels = stratum_labels(data.frame, stratum, data.name)[val_rows]
        result["stratum"] = {"column": stratum, "groups": score(labels, stratum_groups(labels))}
    return result


__all__ = ["stratified_scores"]
