"""The area of applicability in a map (:mod:`core.spatial.applicability`): the ``di`` and ``aoa`` bands'
CF attributes, and the mask that leaves every other band nodata outside the AOA."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import HybridlabError

#: CF attributes of the two bands a run with an area of applicability adds (dimensionless: "1")
AOA_BANDS = {
    "di": {"long_name": "dissimilarity index (distance to the nearest training row in importance-weighted "
                        "standardised predictor space / mean distance between training rows)", "units": "1"},
    "aoa": {"long_name": "inside the area of applicability (1: DI at most the threshold from the training rows' "
                         "cross-validated DI; 0: outside)", "units": "1"},
}


def mask_outside(predicted: pd.DataFrame) -> pd.DataFrame:
    """``predicted`` (one row per pixel, with ``aoa``) with NaN in every column but ``di`` and
    ``aoa`` where ``aoa`` is False."""
    outside = ~predicted["aoa"].to_numpy(dtype=bool)
    masked = predicted.copy()
    for name in masked.columns:
        if name not in AOA_BANDS:
            masked[name] = np.where(outside, np.nan, masked[name].to_numpy(dtype=np.float64))
    return masked


def check_mask(run, wanted: bool) -> None:
    """Refuse ``--mask-outside-aoa`` for a run that has no area of applicability, in one line."""
    if wanted and getattr(run, "applicability", None) is None:
        raise HybridlabError(f"{run.path}: --mask-outside-aoa needs the run's area of applicability "
                             "(applicability.npz), which this run lacks (no predictors, trained with "
                             "--no-applicability or before it existed); train it again or map without the mask")


__all__ = ["AOA_BANDS", "check_mask", "mask_outside"]
