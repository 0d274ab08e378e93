"""The data container every model trains on: one table plus the roles of its columns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from core.errors import DataError
from core.training.tensors import Tensors
from core.formatting import short_repr

TRUE_PREFIX = "true_"
#: the names a longitude and a latitude column go by (LUCAS spells them TH_LONG and TH_LAT)
LONGITUDE, LATITUDE = ("lon", "longitude", "th_long"), ("lat", "latitude", "th_lat")


def coordinate_columns(columns) -> tuple[str, str] | None:
    """The (longitude, latitude) columns among ``columns``, the first spelling of each that is
    there, or None when either is missing."""
    present = set(columns)
    lon = next((c for c in LONGITUDE if c in present), None)
    lat = next((c for c in LATITUDE if c in present), None)
    return (lon, lat) if lon and lat else None


@dataclass
class HybridData:
    """A table with named column roles. Columns ``true_<param>`` hold the known truth and are
    never predictors.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per sample.
    id : str
        The grouping column (site or profile id) used by splits.
    predictors : list of str
        Covariate columns for the network.
    forcing, targets : dict of str to str
        The model's variable name -> the frame's column, e.g. ``{"temp": "MAT"}``.
    source : dict
        How to load these data again: ``{"name": ...}`` for built-in sets,
        ``{"path": ..., "columns": ..., "drop_incomplete": ...}`` for files.
    notes : list of str
        One line each on what loading changed, such as rows left out of training
        (``LUCAS.parquet: 5 of 60 rows left out of training: missing temp (5), clay (2)``).
    """

    frame: pd.DataFrame
    id: str
    predictors: list[str]
    forcing: dict[str, str]
    targets: dict[str, str]
    source: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        bad = [c for c in self.predictors if c.startswith(TRUE_PREFIX)]
        if bad:
            raise DataError(f"truth column(s) {', '.join(bad)} cannot be predictors")

    @property
    def name(self) -> str:
        return self.source.get("name") or str(self.source.get("path", "data"))

    def truth_columns(self) -> dict[str, str]:
        """Parameter name -> column for every ``true_<param>`` column present."""
        return {c[len(TRUE_PREFIX):]: c for c in self.frame.columns if c.startswith(TRUE_PREFIX)}

    def select(self, targets: list[str] | None = None) -> "HybridData":
        """Same data restricted to the given model targets (all when None)."""
        if targets is None:
            return self
        missing = [t for t in targets if t not in self.targets]
        if missing:
            raise DataError(f"data {short_repr(self.name)} has no column for target(s) {', '.join(missing)}; "
                            f"it provides {', '.join(self.targets) or 'none'}")
        return HybridData(self.frame, self.id, self.predictors, self.forcing,
                          {t: self.targets[t] for t in targets}, self.source, self.notes)

    def tensors(self, rows=None, forcing: list[str] | None = None, targets: list[str] | None = None,
                dtype=torch.float32) -> Tensors:
        """x (n, p), forcing (n, f) and y (n, T) for the given row positions (all when None)."""
        f = self.frame if rows is None else self.frame.iloc[np.asarray(rows)]
        forcing = list(self.forcing) if forcing is None else forcing
        targets = list(self.targets) if targets is None else targets
        missing = [v for v in forcing if v not in self.forcing]
        if missing:
            raise DataError(f"data {short_repr(self.name)} provides no forcing {', '.join(missing)}; "
                            f"it has {', '.join(self.forcing) or 'none'}")

        def block(cols):
            if not cols:
                return torch.zeros((len(f), 0), dtype=dtype)
            # row-major: pandas hands out column-major blocks, and gathering rows of those for
            # every mini-batch was 10x slower
            return torch.tensor(np.ascontiguousarray(f[cols].to_numpy(dtype=np.float64)), dtype=dtype)

        return Tensors(block(self.predictors), block([self.forcing[v] for v in forcing]),
                       block([self.targets[t] for t in targets]))
