"""Agreement scores of an ensemble: how alike the members' learned parameters are.

Every score is 1 when all members learned the same thing and about 0 when they agree no more
than draws at random would. The definitions, the thresholds and why the agreement of a neural
parameter is the pairwise correlation are in ``docs/identifiability.md``.

    pairwise_correlation(values) neural (the agreement): mean Pearson r over pairs of members, (M, S)
    site_agreement(values)       neural (for comparison): share of the variance that is not member variance
    global_agreement(units)      global, and a neural parameter's level: 1 - member sd / uniform sd, (M,)
    fitting_members(kge)         which members fit as well as the others (robust outlier rule)
"""
from __future__ import annotations

import itertools
import math

import numpy as np

#: verdict thresholds on the agreement score (as for reliability coefficients: < 0.5 poor, 0.5-0.75 moderate)
IDENTIFIED, WEAK = 0.75, 0.5
#: a member is left out when its modified z-score of mean validation KGE is below -3.5 (Iglewicz & Hoaglin)
OUTLIER_Z = 3.5
VERDICTS = ("identified", "weak", "not identified")
#: standard deviation of a uniform draw on [0, 1]
UNIFORM_SD = 1.0 / math.sqrt(12.0)


def site_agreement(values: np.ndarray) -> float:
    """1 - (mean over sites of the variance across members) / (variance over all members and sites).

    values: (members M, sites S) on the scale the score is read on (a parameter's unit scale, or
    the log of a combination). 1: members agree at every site; 0: member differences are as large
    as the whole spread. NaN for fewer than 2 members or no spread at all."""
    values = _finite_columns(values)
    if values.shape[0] < 2 or values.shape[1] < 2:
        return math.nan
    total = float(np.var(values, ddof=1))
    if not total > 0:
        return math.nan
    member = float(np.mean(np.var(values, axis=0, ddof=1)))
    return float(np.clip(1.0 - member / total, 0.0, 1.0))


def pairwise_correlation(values: np.ndarray) -> float:
    """Mean Pearson r of per-site values over all pairs of members, (M, S); NaN if undefined."""
    values = _finite_columns(values)
    pairs = [np.corrcoef(a, b)[0, 1] for a, b in itertools.combinations(values, 2)
             if np.std(a) > 0 and np.std(b) > 0]
    return float(np.mean(pairs)) if pairs else math.nan


def global_agreement(units: np.ndarray) -> float:
    """1 - (sd of the members' values) / (sd of a uniform draw within the bounds), clipped at 0.

    units: (M,) positions between the bounds (0 lower, 1 upper, on the parameter's scale)."""
    units = np.asarray(units, dtype=float)
    units = units[np.isfinite(units)]
    if len(units) < 2:
        return math.nan
    return float(max(0.0, 1.0 - np.std(units, ddof=1) / UNIFORM_SD))


def fitting_members(kge) -> np.ndarray:
    """Boolean mask (M,) of the members that fit as well as the rest: a member is left out when its
    mean validation KGE lies more than 3.5 robust standard deviations (1.4826 x median absolute
    deviation) below the median. Equifinality is about equally good fits; a failed fit is not one."""
    kge = np.asarray(kge, dtype=float)
    keep = np.isfinite(kge)
    if keep.sum() < 3:
        return keep
    median = np.median(kge[keep])
    robust_sd = 1.4826 * np.median(np.abs(kge[keep] - median))
    if robust_sd > 0:
        keep &= (median - kge) / robust_sd <= OUTLIER_Z
    return keep


def member_spread(values: np.ndarray) -> np.ndarray:
    """Standard deviation across members per site, (M, S) -> (S,)."""
    return np.std(np.asarray(values, dtype=float), axis=0, ddof=1)


def verdict(score: float) -> str:
    """identified (>= 0.75), weak (>= 0.5) or not identified (below, or no score)."""
    if not math.isfinite(score):
        return "not identified"
    return "identified" if score >= IDENTIFIED else "weak" if score >= WEAK else "not identified"


def spearman(a, b) -> float:
    """Spearman rank correlation of two sequences over the pairs where both are finite (ties: mean rank)."""
    import pandas as pd

    frame = pd.DataFrame({"a": a, "b": b}).astype(float).dropna()
    if len(frame) < 3:
        return math.nan
    return float(frame["a"].rank().corr(frame["b"].rank()))


def _finite_columns(values) -> np.ndarray:
    """(M, S) float array keeping the sites where every member's value is finite."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"agreement needs values of shape (members, sites), got shape {values.shape}")
    return values[:, np.all(np.isfinite(values), axis=0)]
