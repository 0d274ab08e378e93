"""How far a map's pixels lie from the run's training sites, beside how far its validation sites
did (``split_geometry`` in metrics.json): kNNDM's argument (Linnenbrink et al. 2024) that a
cross-validation estimates a map's error only where the validation-to-training distances resemble
the prediction-to-training ones.

Each window's mapped pixels are measured to the nearest training site on its worker
(:func:`core.spatial.geometry.distance_counts`: scikit-learn's haversine ``BallTree``, a 1 km
histogram), and the windows' histograms are summed, so the median covers every mapped pixel at
the memory of one window. The training sites come from the run's plan (its data loaded again)
and the split recorded in predictions.parquet.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import HybridlabError
from core.spatial.geometry import distance_counts, median_of_counts, training_sites


def run_training_sites(run) -> tuple[np.ndarray | None, str | None]:
    """((n, 2) float64 longitude, latitude of the run's training sites, None) or (None, why not).
    An array, not a list: every window's task carries it, and 90 windows of a Europe grid held
    about 260 MB of Python floats in the mapping process."""
    from core.run.execute import load_plan_data

    try:
        data = load_plan_data(run.plan)
    except (HybridlabError, OSError) as error:
        return None, f"its training data could not be read again ({str(error).splitlines()[0]})"
    split = pd.read_parquet(run.path / "predictions.parquet", columns=["split"])["split"].to_numpy()
    if len(split) != len(data.frame):
        return None, "its training data changed since it was trained (another number of rows)"
    sites = training_sites(data, split)
    if sites is None:
        return None, "its training data have no longitude/latitude"
    return np.ascontiguousarray(sites, dtype=np.float64), None


def window_counts(window, transformer, valid: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """The distance histogram of one window's mapped pixels (``valid``, row-major) to ``sites``.

    Parameters
    ----------
    window : xarray.Dataset
        The window of the grid (its ``x`` and ``y`` pixel centres).
    transformer : pyproj.Transformer or None
        From the grid's CRS to longitude/latitude (None: the grid is in longitude/latitude).
    valid : numpy.ndarray of bool, shape (ny * nx,)
        The pixels that were mapped.
    sites : numpy.ndarray, shape (n, 2)
        The training sites' longitude and latitude.
    """
    x, y = np.meshgrid(window["x"].to_numpy(), window["y"].to_numpy())
    x, y = x.ravel()[valid], y.ravel()[valid]
    if transformer is not None:
        x, y = transformer.transform(x, y)
    return distance_counts(np.column_stack([x, y]), np.asarray(sites, dtype=np.float64))


def pixel_distance_report(counts: np.ndarray | None, note: str | None, run) -> dict:
    """The map's report entries: the median pixel and validation distances to training (km)."""
    validation = (run.metrics.get("split_geometry") or {}).get("median_nearest_train_km")
    if counts is None:
        return {"median_pixel_nearest_train_km": None, "median_val_nearest_train_km": validation,
                "pixel_distance_note": note}
    return {"median_pixel_nearest_train_km": median_of_counts(counts), "median_val_nearest_train_km": validation}


__all__ = ["pixel_distance_report", "run_training_sites", "window_counts"]
