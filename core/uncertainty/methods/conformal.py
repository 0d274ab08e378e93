"""``conformal``: mu ± q, q the conformal quantile of |y - mu|: one width everywhere."""
import numpy as np

from core.uncertainty.registry import IntervalMethod


def _scores(observed, predictive, noise, level):
    return np.abs(observed - predictive.centre)


def _bounds(predictive, level, noise, quantile):
    half = np.full_like(predictive.centre, quantile)
    return predictive.centre - half, predictive.centre + half


SPEC = IntervalMethod(name="conformal", description="split-conformal: one width everywhere", rank=3,
                      bounds=_bounds, scores=_scores)
