"""A prediction as samples (:class:`Predictive`: an ensemble's members, or MC-dropout passes of one
run), the noise and conformal quantile that calibrate it on held-out sites, and the scores that
judge an interval. Pure NumPy/SciPy on one target at a time; the interval methods are registered in
:mod:`core.uncertainty.registry` (one file each in ``methods/``), :mod:`core.uncertainty.calibration`
applies them to runs.

Per target over n rows: the centre mu_i (the members' mean, or the run's own prediction), the
samples' sd s_i (the epistemic part), one noise sd sigma per target in the target's own units
(the scale the loss compares), and the observation y_i. The methods (``methods/``, one file each):

- ``spread``: mu ± z s, the samples' spread alone: no noise, not calibrated;
- ``gaussian``: mu ± z sqrt(s² + sigma²), sigma fitted by maximum likelihood on the calibration sites;
- ``conformal``: mu ± q, q the conformal quantile of |y - mu|: one width everywhere;
- ``normalised``: mu ± q sqrt(s² + sigma²), q the conformal quantile of |y - mu| / sqrt(s² + sigma²):
  wider where the samples disagree (normalised, or locally adaptive, conformal prediction);
- ``quantile``: [l - q, u + q], l and u the samples' (1 - level)/2 and (1 + level)/2 quantiles, q the
  conformal quantile of max(l - y, y - u) (conformalised quantiles, Romano et al. 2019).

The noise is absolute (sigma in target units) or relative (sigma times the predicted level, for
quantities whose error grows with their size): :attr:`Predictive.relative`; :func:`noise_fit`
gives each one's likelihood, so the calibration sites can choose between them.

The conformal quantile of n calibration scores at level 1 - alpha is the ceil((n + 1)(1 - alpha))-th
smallest score: with calibration and new sites exchangeable, the interval covers a new site's
observation with probability at least 1 - alpha (infinite when n is too small for the level).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np



@dataclass
class Predictive:
    """A prediction of one target on n rows, from S samples.

    Parameters
    ----------
    centre : numpy.ndarray, shape (n,)
        The point prediction (target units).
    samples : numpy.ndarray, shape (S, n)
        Members' or MC-dropout passes' predictions; S = 1 gives no spread.
    relative : bool
        The noise sd is ``noise`` times max(|centre|, floor) (a relative, multiplicative noise, as
        for concentrations whose error grows with their level) instead of ``noise`` everywhere.
    floor : float
        The smallest level a relative noise is scaled by (target units).
    """

    centre: np.ndarray
    samples: np.ndarray
    relative: bool = False
    floor: float = 0.0

    @property
    def spread(self) -> np.ndarray:
        """(n,) the samples' sd (0 for one sample)."""
        if len(self.samples) < 2:
            return np.zeros_like(self.centre)
        return self.samples.std(0, ddof=1)

    def rows(self, rows: np.ndarray) -> "Predictive":
        return Predictive(self.centre[rows], self.samples[:, rows], self.relative, self.floor)

    def noise_level(self) -> np.ndarray:
        """(n,) what the noise sd is multiplied by: 1, or the level of a relative noise."""
        if not self.relative:
            return np.ones_like(self.centre)
        return np.maximum(np.abs(self.centre), self.floor)

    def scale(self, noise: float) -> np.ndarray:
        """(n,) sqrt(s² + (sigma · level)²): the sd of the predictive normal."""
        return np.sqrt(self.spread ** 2 + (noise * self.noise_level()) ** 2)

    def quantiles(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        low, high = np.quantile(self.samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
        return low, high


def noise_fit(observed: np.ndarray, predictive: Predictive) -> tuple[float, float]:
    """(sigma, negative log-likelihood per row) of the noise sd that maximises the normal
    likelihood of y - mu ~ N(0, s² + (sigma · level)²): sigma in target units for an absolute
    noise, a share of the level for a relative one."""
    from scipy.optimize import minimize_scalar  # scipy costs 0.6 s at import: only where it is used

    residual, spread, level = observed - predictive.centre, predictive.spread, predictive.noise_level()
    scale = float(np.sqrt(np.mean((residual / level) ** 2))) or 1.0

    def negative_log_likelihood(log_sigma: float) -> float:
        variance = spread ** 2 + math.exp(2 * log_sigma) * level ** 2
        return 0.5 * float(np.sum(np.log(variance) + residual ** 2 / variance))

    best = minimize_scalar(negative_log_likelihood, bounds=(math.log(scale * 1e-4), math.log(scale * 10)),
                           method="bounded", options={"xatol": 1e-4})
    return float(math.exp(best.x)), float(best.fun) / max(len(residual), 1)


def noise_sd(observed: np.ndarray, predictive: Predictive) -> float:
    """The maximum-likelihood noise sd of :func:`noise_fit`."""
    return noise_fit(observed, predictive)[0]


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level)-th smallest of n scores (inf when that exceeds n)."""
    scores = np.sort(np.asarray(scores, dtype=float))
    k = math.ceil((len(scores) + 1) * level)
    return float(scores[k - 1]) if 1 <= k <= len(scores) else math.inf


def interval_scores(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray, predictive: Predictive,
                    noise: float) -> dict:
    """Coverage (PICP), mean width relative to the observations' sd, and CRPS on the observed rows.

    CRPS is that of the predictive normal N(mu, s² + sigma²) (target units; lower is better);
    ``crps_samples`` that of the raw samples as an ensemble (no noise).
    """
    import scoringrules

    known = np.isfinite(observed)
    y, lower, upper = observed[known], lower[known], upper[known]
    if len(y) == 0:
        return {"n": 0, "picp": math.nan, "width": math.nan, "crps": math.nan, "crps_samples": math.nan}
    part = predictive.rows(np.flatnonzero(known))
    sd = float(np.std(y, ddof=1)) if len(y) > 1 else math.nan
    crps = scoringrules.crps_normal(y, part.centre, np.maximum(part.scale(noise), 1e-12))
    samples = scoringrules.crps_ensemble(y, part.samples.T, m_axis=-1) if len(part.samples) > 1 else np.abs(
        y - part.samples[0])
    return {"n": int(len(y)), "picp": float(np.mean((y >= lower) & (y <= upper))),
            "width": float(np.mean(upper - lower)) / sd if sd else math.nan,
            "crps": float(np.mean(crps)), "crps_samples": float(np.mean(samples))}


def pit(observed: np.ndarray, predictive: Predictive, noise: float) -> np.ndarray:
    """Probability integral transform of the observed rows under N(mu, s² + sigma²): uniform on
    [0, 1] when the predictive distribution is right."""
    from scipy.stats import norm

    known = np.isfinite(observed)
    part = predictive.rows(np.flatnonzero(known))
    return norm.cdf((observed[known] - part.centre) / np.maximum(part.scale(noise), 1e-12))


__all__ = ["Predictive", "conformal_quantile", "interval_scores", "noise_fit", "noise_sd", "pit"]
