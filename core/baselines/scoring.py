"""A fitted baseline scored on the hybrid's validation rows with the hybrid's metrics: KGE and its
parts, NSE and RMSE (:func:`core.metrics.all_metrics`) and, for a baseline with quantiles, the
interval scores of :func:`core.uncertainty.predictive.interval_scores` at the level the hybrid reports
(:data:`core.uncertainty.calibration.REPORTED_LEVEL`, 90 %): coverage (``picp``), mean width over the
observations' sd (``interval_width``), CRPS of the normal with the quantiles' sd (``crps``, as the
hybrid's CRPS is that of its predictive normal) and of the quantiles as an ensemble
(``crps_samples``).
"""
from __future__ import annotations

import time

import numpy as np

from core.uncertainty.calibration import REPORTED_LEVEL
from core.uncertainty.predictive import Predictive, interval_scores
from core.metrics import all_metrics
from core.baselines.applicability import aoa_scores, forest_applicability
from core.baselines.forest import QUANTILE_GRID
from core.baselines.spec import BaselineRows, BaselineSpec


def point_scores(observed: np.ndarray, predicted: np.ndarray) -> dict:
    """The hybrid's metrics of one target on rows with a prediction; ``n_unpredicted`` counts the
    observed rows the baseline gives no value for (a reference series with gaps)."""
    have = np.isfinite(predicted)
    scores = all_metrics(observed[have], predicted[have])[0]
    scores["n_unpredicted"] = int((~have & np.isfinite(observed)).sum())
    return scores


def quantile_scores(observed: np.ndarray, centre: np.ndarray, quantiles: np.ndarray, probabilities,
                    level: float = REPORTED_LEVEL) -> dict:
    """Interval scores of one target from its quantiles.

    Parameters
    ----------
    observed, centre : numpy.ndarray, shape (n,)
        Observations (NaN: missing) and the point prediction.
    quantiles : numpy.ndarray, shape (Q, n)
        The predicted quantiles at ``probabilities`` (Q,), which hold (1 - level)/2 and (1 + level)/2.
    level : float
        The interval's nominal coverage.

    Returns
    -------
    dict
        ``picp``, ``interval_width`` (mean width / sd of the observations), ``crps``, ``crps_samples``.
    """
    probabilities = [round(float(p), 6) for p in probabilities]
    lower = quantiles[probabilities.index(round((1 - level) / 2, 6))]
    upper = quantiles[probabilities.index(round((1 + level) / 2, 6))]
    scores = interval_scores(observed, lower, upper, Predictive(centre, quantiles), noise=0.0)
    return {"picp": scores["picp"], "interval_width": scores["width"], "crps": scores["crps"],
            "crps_samples": scores["crps_samples"]}


def score_baseline(spec: BaselineSpec, rows: BaselineRows) -> dict:
    """Fit ``spec`` on ``rows.train`` and score it on ``rows.val``: target -> metrics, plus
    ``seconds`` (fit and prediction) in every target's entry and, for a baseline with feature
    importances (the forests), ``aoa``: its validation rows inside its own area of applicability
    and the target's KGE inside and outside (:mod:`core.baselines.applicability`); ``rows.derived``'s
    quantities (AWC) join as targets of their own."""
    start = time.perf_counter()
    fitted = spec.fit(rows)
    predicted = fitted.predict(rows.val)
    quantiles = fitted.quantiles(rows.val, QUANTILE_GRID) if hasattr(fitted, "quantiles") else None
    seconds = time.perf_counter() - start
    result = {}
    for target in rows.targets:
        observed = rows.observed(target, rows.val)
        entry = point_scores(observed, predicted[target])
        if quantiles is not None:
            entry.update(quantile_scores(observed, predicted[target], quantiles[target], QUANTILE_GRID))
        result[target] = {**entry, "seconds": seconds}
    if rows.derived is not None:
        result.update({name: {**entry, "seconds": seconds} for name, entry in rows.derived.score(fitted).items()})
    applicability = forest_applicability(fitted, rows)
    if applicability is not None:
        aoa = aoa_scores(applicability, rows, {t: predicted[t] for t in rows.targets})
        for target in rows.targets:
            result[target]["aoa"] = {"val_inside": aoa["val_inside"], "threshold": aoa["threshold"],
                                     **aoa["targets"][target]}
    return result
