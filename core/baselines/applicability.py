"""The area of applicability of a fitted baseline with feature importances (``rf``, ``qrf``), so
that the comparison can say where each method's validation rows lie and how each scores inside
and outside its own AOA.

As CAST's ``aoa`` does for a random forest, the weights are the forest's own importances (here
scikit-learn's impurity importances, averaged over the per-target forests) of the predictor
columns; the forcing columns the forest also sees are left out, as they are for the hybrid (a
map's forcing is the user's choice, not a place in covariate space). Each training row's DI is
measured to rows of other sites, as for a run (:mod:`core.run.applicability`).
"""
from __future__ import annotations

import numpy as np

from core.baselines.spec import BaselineRows
from core.metrics import kge
from core.spatial.applicability import Applicability, fit_applicability

#: how the weights are described in results.json
IMPORTANCE_SOURCE = "the forest's impurity importances of the predictors (mean over targets)"
#: fewest observations of a target on one side of the AOA that get a KGE
MIN_ROWS = 10


def forest_applicability(fitted, rows: BaselineRows) -> Applicability | None:
    """The AOA of a fitted forest on its training rows; None without predictors or importances."""
    forests = getattr(fitted, "forests", None)
    if not rows.predictors or not forests:
        return None
    importances = [np.asarray(f.feature_importances_, dtype=np.float64)[:len(rows.predictors)]
                   for f in forests.values() if hasattr(f, "feature_importances_")]
    if not importances:
        return None
    x = rows.data.frame[rows.predictors].iloc[rows.train].to_numpy(dtype=np.float64)
    groups = rows.data.frame[rows.data.id].iloc[rows.train].to_numpy()
    return fit_applicability(x, groups, np.mean(importances, axis=0), list(rows.predictors), IMPORTANCE_SOURCE,
                             rows.seed)


def aoa_scores(applicability: Applicability, rows: BaselineRows, predicted: dict[str, np.ndarray]) -> dict:
    """The share of validation rows inside the AOA and, per target, the KGE inside and outside.

    Returns
    -------
    dict
        ``val_inside`` (0-1), ``threshold``, and ``targets``: target -> ``{"inside": {"n", "kge"},
        "outside": {...}}`` (``kge`` None below :data:`MIN_ROWS` observations).
    """
    x = rows.data.frame[applicability.predictors].iloc[rows.val].to_numpy(dtype=np.float64)
    inside = applicability.inside(applicability.dissimilarity(x))
    result = {"val_inside": float(inside.mean()) if len(inside) else None,
              "threshold": float(applicability.threshold), "targets": {}}
    for target, values in predicted.items():
        observed = rows.observed(target, rows.val)
        sides = {}
        for side, mask in (("inside", inside), ("outside", ~inside)):
            keep = mask & np.isfinite(observed) & np.isfinite(values)
            sides[side] = {"n": int(keep.sum()),
                           "kge": float(kge(observed[keep], values[keep])["kge"]) if keep.sum() >= MIN_ROWS else None}
        result["targets"][target] = sides
    return result


def run_aoa(metrics: dict, target: str) -> dict | None:
    """The same entry for a trained run (the hybrid, ``nn``) from its metrics.json: its validation
    rows inside its own AOA, and ``scores_by``'s KGE of ``target`` inside and outside."""
    applicability = metrics.get("applicability") or {}
    if applicability.get("val_inside") is None:
        return None
    entry = {"val_inside": applicability["val_inside"], "threshold": applicability.get("threshold")}
    for group in (metrics.get("scores_by") or {}).get("aoa") or []:
        scores = group.get("targets", {}).get(target) or {}
        entry[group["group"]] = {"n": scores.get("n", 0), "kge": scores.get("kge")}
    return entry


__all__ = ["IMPORTANCE_SOURCE", "aoa_scores", "forest_applicability", "run_aoa"]
