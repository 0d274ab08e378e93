"""Whether an ensemble fits at all. A verdict on parameters says nothing when the fit failed, so
the verdicts wait until it fits (docs/identifiability.md)."""
from __future__ import annotations

import math

import numpy as np

from core.formatting import number

#: a target whose validation KGE (mean over the fitting members) is below this did not fit: it is
#: worse than predicting the observations' mean everywhere, whose KGE is 1 - sqrt(2)
#: (Knoben et al. 2019, Hydrol. Earth Syst. Sci. 23, 4323)
MIN_TARGET_KGE = 1.0 - math.sqrt(2.0)


def fit_failure(ensemble, kept: np.ndarray | None = None) -> str:
    """'' when the members fit; else one line saying why not, e.g. "target poc reached validation
    KGE -0.44 (mean over 3 members), below the -0.41 of predicting the mean". kept: mask (members,) of the members to judge (default:
    those that fit as well as the others)."""
    kept = ensemble.fitting() if kept is None else kept
    count = int(np.sum(kept))
    if count == 0:
        return "no member reached a finite validation KGE"
    reasons = []
    for target, values in ensemble.target_fits.items():
        values = np.asarray(values, dtype=float)[kept]
        mean = float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
        if not mean >= MIN_TARGET_KGE:
            reasons.append(f"target {target} reached validation KGE {number(mean, 2)}")
    if not reasons:
        return ""
    return "; ".join(reasons) + f" (mean over {count} member{'s' if count != 1 else ''}), below the " \
        f"{number(MIN_TARGET_KGE, 2)} of predicting the mean"
