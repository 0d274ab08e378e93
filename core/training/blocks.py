"""Spatial blocks for the ``spatial`` split: sites grouped into square blocks of a given size (km)
on their coordinates, whole blocks going to training or validation (``verde.BlockShuffleSplit``,
``verde.BlockKFold``).

Coordinates are longitude and latitude in degrees (WGS84). They are projected to km with a
Lambert azimuthal equal-area projection (``pyproj``) centred on the middle of the data's
longitude and latitude ranges, as ETRS89-LAEA (EPSG:3035) is for Europe: blocks then have their
nominal area everywhere, and distances within a continent are off by at most a few per cent.
Sites are the unit: a site's rows share one point (the mean of its rows' coordinates), so all
rows of a site land in one block and on one side of the split.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataError, HybridlabError
from core.formatting import short_repr

#: how the spatial split turns degrees into km (also written into metrics.json)
PROJECTION = "Lambert azimuthal equal-area (WGS84) centred on the data"
def coordinates_of(frame: pd.DataFrame, columns: tuple[str, str], where: str) -> np.ndarray:
    """Longitude and latitude of every row, (n, 2) degrees; missing or out-of-range values refused."""
    values = np.empty((len(frame), 2))
    for k, (column, limit) in enumerate(zip(columns, (360.0, 90.0))):
        series = pd.to_numeric(frame[column], errors="coerce")
        missing = series.isna().to_numpy()
        if missing.any():
            raise DataError(f"data {short_repr(where)}: coordinate column {short_repr(column)} has {int(missing.sum())} missing "
                            f"or non-numeric value(s) (first at row {int(np.flatnonzero(missing)[0])}); a spatial split "
                            f"needs a point for every row: fill them, drop those rows, or choose --split site")
        values[:, k] = series.to_numpy(dtype=float)
        outside = np.abs(values[:, k]) > limit
        if outside.any():
            raise DataError(f"data {short_repr(where)}: coordinate column {short_repr(column)} has values outside "
                            f"-{limit:g}..{limit:g} (e.g. {values[outside, k][0]:g}); the spatial split needs degrees "
                            f"(WGS84), not projected coordinates")
    return values


def project_km(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) longitude, latitude in degrees -> (n, 2) easting, northing in km (see :data:`PROJECTION`)."""
    from pyproj import CRS, Transformer

    lon0 = 0.5 * (lonlat[:, 0].min() + lonlat[:, 0].max())
    lat0 = 0.5 * (lonlat[:, 1].min() + lonlat[:, 1].max())
    laea = CRS.from_dict({"proj": "laea", "lat_0": lat0, "lon_0": lon0, "ellps": "WGS84", "units": "m"})
    to_laea = Transformer.from_crs("EPSG:4326", laea, always_xy=True)
    east, north = to_laea.transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([east, north]) / 1000.0


@dataclass
class SiteBlocks:
    """The sites of a data set and the blocks they fall in.

    Attributes
    ----------
    codes : numpy.ndarray, shape (n_rows,)
        Each row's site number (0..n_sites-1).
    xy : numpy.ndarray, shape (n_sites, 2)
        Each site's easting and northing in km.
    labels : numpy.ndarray, shape (n_sites,)
        Each site's block (verde's block numbers; only blocks with sites occur).
    block_size : float
        The block size asked for, km (verde's splitters are given it again, so their blocks are these).
    spacing : tuple of float
        The blocks' east-west and north-south size in km, after verde fits them to the extent.
    extent : tuple of float
        The data's east-west and north-south span in km.
    """

    codes: np.ndarray
    xy: np.ndarray
    labels: np.ndarray
    block_size: float
    spacing: tuple[float, float]
    extent: tuple[float, float]

    @property
    def n_blocks(self) -> int:
        return int(len(np.unique(self.labels)))


def _spacing(block_centres: np.ndarray, extent: float, block_size: float) -> float:
    """Block size along one axis from verde's block centres (one block: the nominal size)."""
    centres = np.unique(np.round(block_centres, 6))
    return float(np.diff(centres).mean()) if len(centres) > 1 else max(extent, block_size)


def site_blocks(groups, lonlat: np.ndarray, block_size: float) -> SiteBlocks:
    """Sites and their blocks of ``block_size`` km; refuses a block size the data cannot split by.

    Parameters
    ----------
    groups : array-like, shape (n_rows,)
        Site (or profile) ids.
    lonlat : numpy.ndarray, shape (n_rows, 2)
        Longitude and latitude in degrees (:func:`coordinates_of`).
    block_size : float
        Side of the square blocks in km.
    """
    import verde

    codes, _ = pd.factorize(np.asarray(groups))
    per_site = pd.DataFrame(lonlat, columns=["lon", "lat"]).groupby(codes).mean().sort_index().to_numpy()
    xy = project_km(per_site)
    extent = (float(np.ptp(xy[:, 0])), float(np.ptp(xy[:, 1])))
    span = f"{extent[0]:.0f} km east-west × {extent[1]:.0f} km north-south"
    if block_size >= max(extent):
        raise HybridlabError(f"--block-size {block_size:g} km is not smaller than the data's extent ({span}); "
                             f"choose a smaller block size, e.g. {max(max(extent) / 5, 1):.0f}")
    centres, labels = verde.block_split((xy[:, 0], xy[:, 1]), spacing=block_size, adjust="spacing")
    blocks = SiteBlocks(codes, xy, labels, block_size, (_spacing(centres[0], extent[0], block_size),
                                            _spacing(centres[1], extent[1], block_size)), extent)
    if blocks.n_blocks < 2:
        raise HybridlabError(f"--block-size {block_size:g} km puts every site in one block (extent {span}); "
                             f"choose a smaller block size")
    return blocks


def _rows_of(blocks: SiteBlocks, val_sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, val) from the validation sites' numbers."""
    is_val = np.isin(blocks.codes, val_sites)
    rows = np.arange(len(blocks.codes))
    return rows[~is_val], rows[is_val]


def block_folds(blocks: SiteBlocks, folds: int, seed: int) -> list[np.ndarray]:
    """The validation sites of each of ``folds`` block folds (``verde.BlockKFold``, shuffled blocks,
    folds balanced to hold about the same number of sites)."""
    import verde

    if blocks.n_blocks < folds:
        raise HybridlabError(f"--folds {folds} of a spatial split needs at least {folds} blocks with sites; these blocks "
                             f"({blocks.spacing[0]:.0f} × {blocks.spacing[1]:.0f} km) give {blocks.n_blocks}: choose a "
                             f"smaller --block-size or fewer --folds")
    # given the same points and block size, verde's blocks are ``blocks.labels``
    splitter = verde.BlockKFold(spacing=blocks.block_size, n_splits=folds, shuffle=True,
                                random_state=seed, balance=True)
    with warnings.catch_warnings():  # folds it cannot balance by sites get equal numbers of blocks instead
        warnings.simplefilter("ignore", UserWarning)
        return [np.sort(val) for _, val in splitter.split(blocks.xy)]


def block_holdout(blocks: SiteBlocks, val_fraction: float, seed: int) -> np.ndarray:
    """The validation sites of a shuffled hold-out of about ``val_fraction`` of the blocks
    (``verde.BlockShuffleSplit``: of ten draws, the one whose share of sites is closest to it)."""
    import verde

    splitter = verde.BlockShuffleSplit(spacing=blocks.block_size, n_splits=1, test_size=val_fraction,
                                       random_state=seed, balancing=10)
    _, val = next(splitter.split(blocks.xy))
    return np.sort(val)


def spatial_split(groups, lonlat: np.ndarray, block_size: float, val_fraction: float, folds: int | None,
                  fold: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, val) of a spatial split: a block hold-out (``folds`` None) or fold
    ``fold`` of a block k-fold. Shapes as in :func:`site_blocks`."""
    blocks = site_blocks(groups, lonlat, block_size)
    val_sites = block_holdout(blocks, val_fraction, seed) if folds is None else block_folds(blocks, folds, seed)[fold]
    return _rows_of(blocks, val_sites)
