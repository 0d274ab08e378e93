"""``spread``: mu ± z s, the samples' spread alone: no noise, not calibrated."""
from core.uncertainty.registry import IntervalMethod


def _bounds(predictive, level, noise, quantile):
    from scipy.stats import norm

    half = norm.ppf((1 + level) / 2) * predictive.spread
    return predictive.centre - half, predictive.centre + half


SPEC = IntervalMethod(name="spread", description="the samples' spread alone (no noise, not calibrated)", rank=1,
                      bounds=_bounds, noise=False)
