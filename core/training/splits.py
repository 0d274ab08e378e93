"""Train/validation splits that keep all rows of a site (or profile) on one side.

- ``site``: random by group, default 80/20 (scikit-learn ``GroupShuffleSplit``);
- ``temperature``: train on the colder sites, validate on the warmest fraction of sites by their
  mean of a column (default the forcing ``temp``): a test of extrapolation to warmer climates;
- ``kfold``: k-fold by group (scikit-learn ``GroupKFold`` with shuffling), one fold as validation;
- ``spatial``: whole square blocks of ``block_size`` km on the sites' coordinates go to validation,
  about ``val_fraction`` of them, or with ``folds`` one fold of a block k-fold
  (:mod:`core.training.blocks`, through verde).

Any of them can hold out a share of the training groups as *calibration* sites
(:func:`hold_out_calibration`): neither trained on nor reported, they calibrate prediction intervals
(:mod:`core.uncertainty.calibration`). They are drawn at random from the training side, so under the
temperature split they come from the colder, seen climates, as a map user's own calibration would.
"""
from __future__ import annotations

import math

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.errors import DataError, HybridlabError
from core.validation import check_choice, check_integer, check_number, settings_from_dict
from core.formatting import short_repr
from core.training.blocks import spatial_split

SPLIT_KINDS = ("site", "temperature", "kfold", "spatial")
#: settings only the spatial split uses (left out of the other kinds' dicts where unset)
SPATIAL_KEYS = ("block_size", "coordinates")
#: the calibration share used where a user asks for intervals without giving one (experiments with
#: --members, the dashboard's interval switch)
INTERVAL_CALIBRATION = 0.15


@dataclass
class SplitConfig:
    """How rows are split into training and validation.

    Parameters
    ----------
    kind : str
        One of :data:`SPLIT_KINDS` (site, temperature, kfold, spatial).
    val_fraction : float
        Share of groups for validation (site, temperature; spatial: of blocks).
    column : str
        What the temperature split stratifies by (a forcing name or a data column).
    folds, fold : int
        Number of folds and the validation fold (0-based) for ``kfold`` (default 5 folds) and
        ``spatial`` (default None: a hold-out of ``val_fraction`` of the blocks, no folds).
    calibration : float
        Share of the training groups held out to calibrate prediction intervals (0: none).
    block_size : float, optional
        Side of the square blocks in km (``spatial`` only, where it is required).
    coordinates : list of str, optional
        The [longitude, latitude] columns in degrees (``spatial``; None: found by their names,
        lon/lat, longitude/latitude, th_long/th_lat).
    """

    kind: str = "site"
    val_fraction: float = 0.2
    column: str = "temp"
    folds: int | None = None
    fold: int = 0
    calibration: float = 0.0
    block_size: float | None = None
    coordinates: list[str] | None = None

    def __post_init__(self):
        check_choice(self.kind, SPLIT_KINDS, "split")
        check_number(self.val_fraction, "validation fraction", 0, 1, include_low=False, include_high=False)
        if not isinstance(self.column, str) or not self.column:
            raise HybridlabError(f"split column must be a column name, got {short_repr(self.column)}")
        if self.folds is None and self.kind != "spatial":
            self.folds = 5
        self.fold = check_integer(self.fold, "fold", minimum=0)
        if self.folds is not None:
            self.folds = check_integer(self.folds, "number of folds", minimum=2)
            if self.fold >= self.folds:
                raise HybridlabError(f"fold must be in 0..{self.folds - 1}, got {self.fold}")
        check_number(self.calibration, "calibration fraction", 0, 1, include_high=False)
        if self.kind == "spatial":
            check_spatial_settings(self)

    def to_dict(self) -> dict:
        values = asdict(self)
        if self.kind != "spatial":  # unset, they leave the other kinds' dicts as they were before spatial splits
            for key in SPATIAL_KEYS:
                if values[key] is None:
                    values.pop(key)
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> "SplitConfig":
        return settings_from_dict(cls, values, "split")


def split_rows(groups, cfg: SplitConfig, seed: int = 0, values=None, coordinates=None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, val). groups: (n,) group ids; values: (n,) numbers for ``temperature``;
    coordinates: (n, 2) longitude, latitude in degrees for ``spatial``."""
    groups = np.asarray(groups)
    n_groups = len(pd.unique(groups))
    if n_groups < 2:
        raise DataError(f"a split needs at least 2 sites/groups, the data have {n_groups}")
    rows = np.arange(len(groups))
    if cfg.kind == "site":
        from sklearn.model_selection import GroupShuffleSplit  # imported when used: it takes a second

        splitter = GroupShuffleSplit(n_splits=1, test_size=cfg.val_fraction, random_state=seed)
        train, val = next(splitter.split(rows, groups=groups))
    elif cfg.kind == "kfold":
        if n_groups < cfg.folds:
            raise DataError(f"{cfg.folds}-fold split needs at least {cfg.folds} groups, the data have {n_groups}")
        from sklearn.model_selection import GroupKFold

        splitter = GroupKFold(n_splits=cfg.folds, shuffle=True, random_state=seed)
        train, val = list(splitter.split(rows, groups=groups))[cfg.fold]
    elif cfg.kind == "spatial":
        if coordinates is None:
            raise HybridlabError("the spatial split needs the coordinates of every row")
        train, val = spatial_split(groups, coordinates, cfg.block_size, cfg.val_fraction, cfg.folds, cfg.fold, seed)
    else:
        if values is None:
            raise HybridlabError("the temperature split needs the values of its column")
        per_group = pd.Series(np.asarray(values, dtype=float)).groupby(groups).mean()
        n_val = max(1, int(round(cfg.val_fraction * len(per_group))))
        # ties broken by group id so the split is deterministic
        order = per_group.reset_index().sort_values([0, "index"], kind="mergesort")["index"].to_numpy()
        warm = set(order[-n_val:].tolist())
        is_val = np.array([g in warm for g in groups])
        train, val = rows[~is_val], rows[is_val]
    return np.sort(train), np.sort(val)


def check_spatial_settings(cfg: SplitConfig) -> None:
    """Refuse a spatial split without a positive block size or with malformed coordinate names."""
    if cfg.block_size is None:
        raise HybridlabError("--split spatial needs --block-size KM (the side of the square blocks in km, e.g. 300)")
    size = check_number(cfg.block_size, "--block-size (km)")
    if size <= 0:
        raise HybridlabError(f"--block-size must be more than 0 km, got {size:g}")
    cfg.block_size = size
    if cfg.coordinates is not None:
        names = cfg.coordinates
        if (isinstance(names, str) or not isinstance(names, (list, tuple)) or len(names) != 2
                or not all(isinstance(n, str) and n for n in names)):
            raise HybridlabError(f"split coordinates must be two column names [longitude, latitude], got "
                                 f"{short_repr(names)}")
        cfg.coordinates = list(names)


def hold_out_calibration(groups, train_rows: np.ndarray, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train, calibration): a random ``fraction`` of the groups among ``train_rows``
    (all rows of a group on one side). groups: (n,) group ids of every row."""
    train_rows = np.asarray(train_rows)
    if fraction <= 0:
        return train_rows, np.zeros(0, dtype=train_rows.dtype)
    groups = np.asarray(groups)[train_rows]
    if len(pd.unique(groups)) < 4:
        raise DataError(f"a calibration split needs at least 4 training sites/groups, the data have "
                        f"{len(pd.unique(groups))}")
    count = len(pd.unique(groups))
    held_out = math.ceil(fraction * count)  # as GroupShuffleSplit rounds: at least one group on each side
    if held_out >= count:
        raise DataError(f"--calibration {fraction:.15g} holds out {held_out} of the {count} training sites/groups and "
                        f"leaves none to train on; choose a smaller share, e.g. 0.15")
    from sklearn.model_selection import GroupShuffleSplit

    # its own stream (seed + 1): the same run with or without calibration keeps the same validation sites
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed + 1)
    kept, held = next(splitter.split(train_rows, groups=groups))
    return np.sort(train_rows[kept]), np.sort(train_rows[held])
