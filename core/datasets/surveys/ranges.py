"""Physical ranges of the quantities the survey files hold (by their name in the table): a value
outside is missing, counted and named (file, column, row, value), never clipped or rescaled.

Coarse fragments are a fraction (0-1) or a percentage (0-100), decided for the column as a
whole (``--coarse-fragments``, default ``auto``): fractions when no value is above 1, percent
when none lies strictly between 0 and 1; a column holding both is refused, since one of them is
in the other unit. Percentages are divided by 100, and the report says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr

#: name in the table -> (lowest, highest, unit) a value may take
RANGES = {
    "oc": (0.0, 1000.0, "g kg-1"), "n": (0.0, 1000.0, "g kg-1"), "caco3": (0.0, 1000.0, "g kg-1"),
    "p": (0.0, np.inf, "mg kg-1"), "k": (0.0, np.inf, "mg kg-1"), "ec": (0.0, np.inf, "mS m-1"),
    "ox_al": (0.0, 1000.0, "g kg-1"), "ox_fe": (0.0, 1000.0, "g kg-1"),
    "ph_h2o": (0.0, 14.0, "pH"), "ph_cacl2": (0.0, 14.0, "pH"), "ph": (0.0, 14.0, "pH"),
    "bd": (0.05, 2.65, "g cm-3"), "clay": (0.0, 100.0, "%"), "sand": (0.0, 100.0, "%"), "silt": (0.0, 100.0, "%"),
    "coarse": (0.0, 100.0, "%"), "moc": (0.0, 1000.0, "g kg-1"), "poc": (0.0, 1000.0, "g kg-1"),
    "mbc": (0.0, np.inf, "as in the file"), "theta": (0.0, 1.0, "m3 m-3"),
    "th_lat": (-90.0, 90.0, "degree"), "gps_lat": (-90.0, 90.0, "degree"),
    "th_long": (-180.0, 180.0, "degree"), "gps_long": (-180.0, 180.0, "degree"),
}
COARSE_UNITS = ("auto", "fraction", "percent")
OUTSIDE = "outside the physical range, taken as missing"


def _cell(value: float) -> str:
    return f"{value:g}"


def fragments_unit(values: pd.Series, name: str, column: str, unit: str) -> str:
    """"fraction" or "percent" for a coarse fragments column (see the module's text)."""
    if unit not in COARSE_UNITS:
        raise DataError(f"--coarse-fragments must be one of {', '.join(COARSE_UNITS)}, got {short_repr(unit)}")
    if unit != "auto":
        return unit
    above = values[values > 1]
    between = values[(values > 0) & (values < 1)]
    if len(above) and len(between):
        raise DataError(f"{name}: column {column} mixes fractions and percentages (row {between.index[0]}: "
                        f"{_cell(between.iloc[0])}, row {above.index[0]}: {_cell(above.iloc[0])}); give "
                        f"--coarse-fragments fraction or percent to say which it holds")
    return "percent" if len(above) else "fraction"


def check_range(values: pd.Series, bounds: tuple, *, name: str, column: str, table_name: str, problems) -> pd.Series:
    """``values`` with those outside ``bounds`` (lowest, highest, unit) missing, each counted
    and named; the index gives each value's row."""
    low, high, unit = bounds
    outside = ((values < low) | (values > high)).to_numpy()
    if not outside.any():
        return values
    span = f"{low:g}-{high:g}" if np.isfinite(high) else f">= {low:g}"
    for row, value in values[outside].items():
        problems.add(OUTSIDE, (name, column), f"{name}: column {column}, row {row}: {_cell(value)} is outside "
                     f"{span} {unit} ({table_name}); taken as missing", table_name)
    return values.mask(outside)


def coarse_fragments(values: pd.Series, *, name: str, column: str, unit: str, problems, notes: list[str]) -> pd.Series:
    """A coarse fragments column as a fraction (0-1): its unit decided, values outside the
    unit's range missing and counted, percentages divided by 100 (said in ``notes``)."""
    unit = fragments_unit(values, name, column, unit)
    bounds = (0.0, 1.0, "(fraction)") if unit == "fraction" else (0.0, 100.0, "%")
    checked = check_range(values, bounds, name=name, column=column, table_name="coarse_fragments",
                          problems=problems)
    if unit == "fraction":
        return checked
    notes.append(f"{name}: column {column} read as percent (largest {checked.max():g}) and divided by 100")
    return checked / 100


__all__ = ["COARSE_UNITS", "OUTSIDE", "RANGES", "check_range", "coarse_fragments", "fragments_unit"]
