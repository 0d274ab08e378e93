"""Measured retention points, theta(h), in the two layouts people keep them: long (one row per
point: sample id, suction, water content) or wide (one row per sample, one column per suction,
the suction in the column's name: ``theta_10``, ``33kPa``, ``pF2.5``, ``h=100 cm``).

Suction becomes cm of water (the retention model's h): cm x 1, m x 100, mm x 0.1, hPa and mbar
x 1.01972, kPa x 10.1972, bar x 1019.72, MPa x 10197.2, pF: 10^pF. The unit comes from the
column's name (``pressure_head_cm``, ``suction_kpa``, ``pF``) or from ``--head-unit``; when
neither says it the file is refused, as the units differ by factors of 10 to 10,000. Negative
values (matric potential) are taken as suction when every value is <= 0; a column mixing signs is
refused. A suction of 0 (saturation) is taken as 1 cm (pF 0, where the model's curve starts), counted.
Water content becomes m3 m-3: percent divided by 100 (``--theta-unit``, or the name, or values
above 1.5 when neither says).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.names import normalised

#: cm of water per unit of suction
HEAD_UNITS = {"cm": 1.0, "m": 100.0, "mm": 0.1, "hpa": 1.019716, "mbar": 1.019716, "kpa": 10.19716,
              "bar": 1019.716, "mpa": 10197.16, "pf": None}
#: what the flag --head-unit accepts
HEAD_FLAG_UNITS = ("cm", "m", "hPa", "kPa", "pF")
ZERO_HEAD_CM = 1.0
HEAD_BASES = ("h", "head", "pressure_head", "suction", "tension", "matric_head", "matric_suction",
              "matric_potential", "water_potential", "psi", "pressure", "potential", "pf", "log_h")
THETA_BASES = ("theta", "theta_v", "water_content", "volumetric_water_content", "vwc", "swc", "wc", "moisture",
               "water")
#: a name's last tokens that give theta's unit
THETA_SUFFIXES = {"cm3_cm3": "fraction", "m3_m3": "fraction", "fraction": "fraction", "frac": "fraction",
                  "pct": "percent", "percent": "percent", "vol_pct": "percent", "vol": "percent"}
SAMPLE_SPELLINGS = ("sample_id", "sample", "code", "sample_code", "id", "soil_id", "lab_id", "sample_no",
                    "sample_number", "horizon_id")
_WIDE = re.compile(r"^\s*(?P<prefix>theta|th|wc|vwc|swc|w|h|pf|psi|water)?[\s_=:\-]*(?P<value>-?\d+(?:[.,]\d+)?)"
                   r"\s*(?P<unit>cm|mm|m|hpa|kpa|mpa|mbar|bar|pf)?\s*$", re.IGNORECASE)


def first_column(columns, spellings) -> str | None:
    """The first of ``spellings`` (case and punctuation ignored) that names one of ``columns``."""
    keys = {}
    for column in columns:
        keys.setdefault(normalised(column), column)
    return next((keys[s] for s in spellings if s in keys), None)


def head_column(columns) -> tuple[str | None, str | None]:
    """(the suction column, the unit its name gives or None) of a long table."""
    for column in columns:
        key = normalised(column)
        tokens = key.split("_")
        unit = tokens[-1] if len(tokens) > 1 and tokens[-1] in HEAD_UNITS else None
        base = "_".join(tokens[:-1]) if unit else key
        if base in HEAD_BASES:
            return column, "pf" if base in ("pf", "log_h") else unit
    return None, None


def theta_column(columns) -> tuple[str | None, str | None]:
    """(the water content column, the unit its name gives or None) of a long table."""
    for column in columns:
        key = normalised(column)
        for suffix, unit in THETA_SUFFIXES.items():
            if key.endswith("_" + suffix) and key[:-len(suffix) - 1] in THETA_BASES:
                return column, unit
        if key in THETA_BASES:
            return column, None
    return None, None


def wide_columns(columns) -> dict[str, tuple[float, str | None]]:
    """Columns named by a suction: name -> (the number, the unit the name gives or None)."""
    found = {}
    for column in columns:
        match = _WIDE.match(str(column))
        if match:
            unit = (match.group("unit") or "").lower() or ("pf" if (match.group("prefix") or "").lower() == "pf"
                                                             else None)
            found[column] = (float(match.group("value").replace(",", ".")), unit)
    return found


def head_unit(named: set, given: str | None, where: str) -> str:
    """The suction unit: the names' (one for all) or ``--head-unit``; refused when they disagree or
    neither says."""
    named = {u for u in named if u}
    if len(named) > 1:
        raise DataError(f"{where}: column names give suction in several units ({', '.join(sorted(named))}); "
                        f"keep one unit per file")
    flag = given.lower() if given else None
    if flag is not None and flag not in HEAD_UNITS:
        raise DataError(f"--head-unit must be one of {', '.join(HEAD_FLAG_UNITS)}, got {short_repr(given)}")
    if named and flag and named != {flag}:
        raise DataError(f"{where}: the column names say suction in {named.pop()}, --head-unit says {given}; "
                        f"drop --head-unit or rename the columns")
    unit = flag or (named.pop() if named else None)
    if unit is None:
        raise DataError(f"{where}: the suction's unit is not in the column names; give --head-unit "
                        f"{'|'.join(HEAD_FLAG_UNITS)}")
    return unit


def to_cm(head: pd.Series, unit: str, where: str, column: str, notes: list[str]) -> pd.Series:
    """Suction in cm of water (see the module's text); ``head``'s index gives each value's row."""
    if unit == "pf":
        notes.append(f"{where}: suction {column} in pF, taken as h = 10^pF cm")
        return 10.0 ** head
    negative, positive = head < 0, head > 0
    if negative.any() and positive.any():
        raise DataError(f"{where}: column {column} mixes signs (row {head.index[negative.to_numpy()][0]}: "
                        f"{head[negative].iloc[0]:g}, row {head.index[positive.to_numpy()][0]}: "
                        f"{head[positive].iloc[0]:g}); give suction as positive or matric potential as negative "
                        f"values, not both")
    if negative.any():
        notes.append(f"{where}: column {column} holds negative values (matric potential): taken as suction, "
                     f"sign dropped ({int(negative.sum())} points)")
        head = -head
    factor = HEAD_UNITS[unit]
    if factor != 1.0:
        notes.append(f"{where}: suction {column} in {unit}, multiplied by {factor:g} to cm of water")
    cm = head * factor
    zero = cm == 0
    if zero.any():
        notes.append(f"{where}: {int(zero.sum())} point(s) at suction 0 (saturation) taken as {ZERO_HEAD_CM:g} cm "
                     f"(pF 0, where the retention model's curve starts)")
        cm = cm.mask(zero, ZERO_HEAD_CM)
    return cm


def to_fraction(theta: pd.Series, named: str | None, given: str, where: str, column: str,
                notes: list[str]) -> pd.Series:
    """Water content in m3 m-3 (see the module's text)."""
    if given not in ("auto", "fraction", "percent"):
        raise DataError(f"--theta-unit must be auto, fraction or percent, got {short_repr(given)}")
    if given != "auto" and named and given != named:
        raise DataError(f"{where}: column {column}'s name says {named}, --theta-unit says {given}; drop one")
    unit = given if given != "auto" else named
    largest = float(np.nanmax(theta.to_numpy(dtype=float))) if theta.notna().any() else 0.0
    if unit is None:
        unit = "percent" if largest > 1.5 else "fraction"
        notes.append(f"{where}: water content {column} read as {'percent' if unit == 'percent' else 'm3 m-3'} "
                     f"(largest value {largest:g}; --theta-unit to say otherwise)")
    if unit == "percent":
        if given != "auto" or named:
            notes.append(f"{where}: water content {column} in percent, divided by 100")
        return theta / 100
    return theta


__all__ = ["HEAD_FLAG_UNITS", "HEAD_UNITS", "SAMPLE_SPELLINGS", "ZERO_HEAD_CM", "first_column", "head_column",
           "head_unit", "theta_column", "to_cm", "to_fraction", "wide_columns"]
