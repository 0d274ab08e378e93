"""Where a split's validation points lie relative to its training points (``metrics.json``'s
``split_geometry``), and the coordinates a spatial split works on.

The geometry says how far validation is from training: the median great-circle distance (km)
from a validation site to its nearest training site (scikit-learn's ``BallTree`` with the
haversine metric, Earth radius 6371.0088 km). A random split by site puts validation sites next
to training sites; a spatial split moves them about a block away. For a spatial split it adds the
block size asked for and the one verde fitted to the data's extent, the number of blocks, those on
each side and, for a block k-fold, the blocks of every fold.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets import LATITUDE, LONGITUDE, HybridData, coordinate_columns
from core.errors import DataError
from core.formatting import short_repr
from core.training.blocks import PROJECTION, block_folds, coordinates_of, site_blocks
from core.training.splits import SplitConfig

#: mean Earth radius (IUGG), km
EARTH_RADIUS_KM = 6371.0088


def split_coordinates(data: HybridData, cfg: SplitConfig) -> tuple[np.ndarray, list[str]] | None:
    """Every row's (longitude, latitude) in degrees, shape (n, 2), and the two columns' names.

    A spatial split refuses data without them (one line naming the fix); for the other kinds
    they are optional (None when the data have none or miss some).
    """
    spatial = cfg.kind == "spatial"
    if cfg.coordinates is not None:
        columns = tuple(cfg.coordinates)
        missing = [c for c in columns if c not in data.frame.columns]
        if missing:
            raise DataError(f"data {short_repr(data.name)}: coordinate column(s) {', '.join(missing)} not found; name the "
                            f"longitude and latitude columns with --coordinates LON,LAT, or choose --split site")
    else:
        columns = coordinate_columns(data.frame.columns)
        if columns is None:
            if not spatial:
                return None
            raise DataError(f"data {short_repr(data.name)} has no longitude/latitude columns (looked for "
                            f"{'/'.join(LONGITUDE)} and {'/'.join(LATITUDE)}): name them with --coordinates LON,LAT, "
                            f"or choose --split site")
    if not spatial:
        frame = data.frame[list(columns)].apply(pd.to_numeric, errors="coerce")
        if frame.isna().any().any() or (frame.abs() > [360, 90]).any().any():
            return None
    return coordinates_of(data.frame, columns, data.name), list(columns)


def nearest_distance_km(from_lonlat: np.ndarray, to_lonlat: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) from each point of ``from_lonlat`` (m, 2) to its nearest point of
    ``to_lonlat`` (n, 2); both longitude, latitude in degrees. Returns shape (m,)."""
    from sklearn.neighbors import BallTree

    tree = BallTree(np.radians(to_lonlat[:, ::-1]), metric="haversine")
    distance, _ = tree.query(np.radians(from_lonlat[:, ::-1]), k=1)
    return distance[:, 0] * EARTH_RADIUS_KM


def _site_points(groups: np.ndarray, lonlat: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One point per site among ``rows``: the mean of its rows' coordinates, (n_sites, 2)."""
    return pd.DataFrame(lonlat[rows], columns=["lon", "lat"]).groupby(groups[rows]).mean().to_numpy()


def _block_geometry(groups, lonlat, train_rows, val_rows, cfg: SplitConfig, seed: int) -> dict:
    """Block size, blocks and (k-fold) blocks per fold of a spatial split."""
    blocks = site_blocks(groups, lonlat, cfg.block_size)
    site_label = blocks.labels[blocks.codes]  # each row's block
    geometry = {"projection": PROJECTION, "block_size_km": cfg.block_size,
                "block_spacing_km": [round(s, 3) for s in blocks.spacing],
                "extent_km": [round(e, 3) for e in blocks.extent], "blocks": blocks.n_blocks,
                "train_blocks": int(len(np.unique(site_label[train_rows]))),
                "val_blocks": int(len(np.unique(site_label[val_rows])))}
    if cfg.folds is not None:
        folds = block_folds(blocks, cfg.folds, seed)
        geometry.update(folds=cfg.folds, fold=cfg.fold,
                        blocks_per_fold=[int(len(np.unique(blocks.labels[sites]))) for sites in folds])
    return geometry


def split_geometry(data: HybridData, cfg: SplitConfig, train_rows: np.ndarray, val_rows: np.ndarray,
                   seed: int) -> dict | None:
    """``metrics.json``'s ``split_geometry`` of a split, or None for data without coordinates.

    Parameters
    ----------
    data : HybridData
    cfg : SplitConfig
        The split that chose the rows.
    train_rows, val_rows : numpy.ndarray, shape (n_train,), (n_val,)
        Row positions of the training (without calibration) and validation sides.
    seed : int
        The split's seed (the run's training seed).

    Returns
    -------
    dict or None
        ``coordinates`` (the [longitude, latitude] columns), ``val_sites``, and
        ``median_nearest_train_km``; for a spatial split also the block geometry.
    """
    found = split_coordinates(data, cfg)
    if found is None or not len(val_rows) or not len(train_rows):
        return None
    lonlat, columns = found
    groups = data.frame[data.id].to_numpy()
    val_points = _site_points(groups, lonlat, val_rows)
    distance = nearest_distance_km(val_points, _site_points(groups, lonlat, train_rows))
    geometry = {"coordinates": columns, "val_sites": int(len(val_points)),
                "median_nearest_train_km": float(np.median(distance))}
    if cfg.kind == "spatial":
        geometry.update(_block_geometry(groups, lonlat, train_rows, val_rows, cfg, seed))
    return geometry


#: the histogram of pixel distances a map sums over its windows: 1 km bins up to half the Earth's circumference
DISTANCE_BIN_KM = 1.0
DISTANCE_BINS = 20_040


def distance_counts(from_lonlat: np.ndarray, to_lonlat: np.ndarray, block: int = 200_000) -> np.ndarray:
    """Histogram of the great-circle distance from each point of ``from_lonlat`` (m, 2) to its
    nearest point of ``to_lonlat`` (n, 2), in :data:`DISTANCE_BINS` bins of :data:`DISTANCE_BIN_KM`;
    queried ``block`` points at a time, so windows of a map can be summed (:func:`median_of_counts`)."""
    from sklearn.neighbors import BallTree

    counts = np.zeros(DISTANCE_BINS, dtype=np.int64)
    if not len(from_lonlat) or not len(to_lonlat):
        return counts
    tree = BallTree(np.radians(np.asarray(to_lonlat, dtype=np.float64)[:, ::-1]), metric="haversine")
    for start in range(0, len(from_lonlat), block):
        part = np.radians(np.asarray(from_lonlat[start:start + block], dtype=np.float64)[:, ::-1])
        distance = tree.query(part, k=1)[0][:, 0] * EARTH_RADIUS_KM
        counts += np.bincount(np.minimum((distance / DISTANCE_BIN_KM).astype(np.int64), DISTANCE_BINS - 1),
                              minlength=DISTANCE_BINS)
    return counts


def median_of_counts(counts: np.ndarray) -> float | None:
    """The median distance (km) of a :func:`distance_counts` histogram, interpolated within its bin
    (None for no points)."""
    total = int(np.sum(counts))
    if not total:
        return None
    cumulative = np.cumsum(counts)
    k = int(np.searchsorted(cumulative, total / 2))
    below = cumulative[k - 1] if k else 0
    return float((k + (total / 2 - below) / counts[k]) * DISTANCE_BIN_KM)


def training_sites(data: HybridData, split: np.ndarray) -> np.ndarray | None:
    """(n_sites, 2) longitude, latitude of the training sites (rows whose ``split`` is ``train``,
    one point per site: the mean of its rows), or None for data without usable coordinates."""
    columns = coordinate_columns(data.frame.columns)
    if columns is None:
        return None
    lonlat = data.frame[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    rows = np.flatnonzero((np.asarray(split) == "train") & np.isfinite(lonlat).all(1))
    if not len(rows):
        return None
    return _site_points(data.frame[data.id].to_numpy(), lonlat, rows)
