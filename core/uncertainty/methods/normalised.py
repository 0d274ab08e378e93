"""``normalised``: mu ± q sqrt(s² + sigma²), q the conformal quantile of |y - mu| / sqrt(s² + sigma²):
wider where the samples disagree (normalised, or locally adaptive, conformal prediction)."""
import numpy as np

from core.uncertainty.registry import IntervalMethod


def _scores(observed, predictive, noise, level):
    return np.abs(observed - predictive.centre) / predictive.scale(noise)


def _bounds(predictive, level, noise, quantile):
    half = quantile * predictive.scale(noise)
    return predictive.centre - half, predictive.centre + half


SPEC = IntervalMethod(name="normalised", description="conformal, scaled by the samples' spread and the noise",
                      rank=4, bounds=_bounds, scores=_scores, relative=True)
