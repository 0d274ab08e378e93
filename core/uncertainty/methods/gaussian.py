"""``gaussian``: mu ± z sqrt(s² + sigma²), sigma fitted by maximum likelihood on the calibration sites."""
from core.uncertainty.registry import IntervalMethod


def _bounds(predictive, level, noise, quantile):
    from scipy.stats import norm

    half = norm.ppf((1 + level) / 2) * predictive.scale(noise)
    return predictive.centre - half, predictive.centre + half


SPEC = IntervalMethod(name="gaussian", description="a normal of the samples' spread and a fitted noise", rank=2,
                      bounds=_bounds, relative=True)
