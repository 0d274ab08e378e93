"""``quantile``: [l - q, u + q], l and u the samples' (1 - level)/2 and (1 + level)/2 quantiles, q the
conformal quantile of max(l - y, y - u) (conformalised quantiles, Romano et al. 2019)."""
import numpy as np

from core.uncertainty.registry import IntervalMethod


def _scores(observed, predictive, noise, level):
    low, high = predictive.quantiles(level)
    return np.maximum(low - observed, observed - high)


def _bounds(predictive, level, noise, quantile):
    low, high = predictive.quantiles(level)
    return low - quantile, high + quantile


SPEC = IntervalMethod(name="quantile", description="the samples' quantiles, widened conformally", rank=5,
                      bounds=_bounds, scores=_scores)
