"""Columns of a SOC-fraction table found by name, with the unit their name states: carbon
(``SOC_gC_kg``, ``MAOC_mg_g``, ``POC_pct``), mineral type (HM/LM, 2:1/1:1), vegetation as 0/1
columns, and the site id (a site column, else latitude and longitude, else the study).
"""
from __future__ import annotations

import re

import pandas as pd

from core.datasets.surveys.names import normalised
from core.datasets.surveys.tables import Problems, numeric_column
from core.errors import DataError
from core.formatting import short_repr

#: target -> names its column may have (after normalising and removing a unit suffix)
CARBON = {"soc": ("soc", "oc", "bulk_c", "organic_carbon", "toc", "c_org", "corg", "total_c"),
          "moc": ("moc", "maoc", "maom", "maom_c", "siltclayc", "silt_clay_c", "mineral_c", "mac"),
          "poc": ("poc", "pom", "pom_c", "poc_c", "particulate_c")}
#: unit suffix (normalised) -> (factor to g C kg-1, the unit in words); mg_kg before g_kg
UNIT_SUFFIXES = (("mg_?c?_?kg", 0.001, "mg C kg-1"), ("g_?c?_?kg", 1.0, "g C kg-1"), ("mg_?c?_?g", 1.0, "mg C g-1"),
                 ("pct|percent|perc", 10.0, "percent"))
CARBON_UNITS = {"g/kg": (1.0, "g C kg-1"), "mg/g": (1.0, "mg C g-1"), "percent": (10.0, "percent"),
                "mg/kg": (0.001, "mg C kg-1")}
_SUFFIX = re.compile(r"_(?:" + "|".join(s for s, *_ in UNIT_SUFFIXES) + r"|mm|cm|c|degc|deg_c|g_cm3)$")
MINERAL_SPELLINGS = ("mineral_type", "mineraltype", "mineral_type_hm_lm", "mineralogy", "clay_mineralogy",
                     "clay_type", "mineral_activity")
VEGETATION_SPELLINGS = ("vegetation", "land_use", "landuse", "land_cover", "landcover", "biome", "ecosystem")
SITE_SPELLINGS = ("site", "site_id", "siteid", "profile", "profile_id", "location_id", "plot", "plot_id")
_LOW = {"lm", "low", "1:1", "low_activity", "kaolinite"}
_HIGH = {"hm", "high", "2:1", "high_activity", "smectite", "illite"}


def base_name(column) -> str:
    """``SOC_gC_kg`` -> ``soc``; ``MAT_C`` -> ``mat``; ``Bulk.C`` -> ``bulk_c`` (a unit suffix removed)."""
    name = normalised(column)
    stripped = _SUFFIX.sub("", name)
    return stripped or name


def find(frame: pd.DataFrame, spellings, name: str, what: str, required: bool = False) -> str | None:
    """The one column whose name, or name without its unit, is one of ``spellings``."""
    wanted = set(spellings)
    found = [c for c in frame.columns if normalised(c) in wanted or base_name(c) in wanted]
    if len(found) > 1:
        raise DataError(f"{name}: columns {', '.join(map(short_repr, found))} all look like the {what}; keep one")
    if not found and required:
        raise DataError(f"{name}: no {what} column (looked for {', '.join(spellings)}); columns are "
                        f"{', '.join(map(short_repr, list(frame.columns)[:12]))}")
    return found[0] if found else None


def carbon_unit(column: str, given: str, name: str) -> tuple[float, str]:
    """(factor to g C kg-1, the unit in words) from ``--carbon-unit`` or the column's name."""
    if given != "auto":
        if given not in CARBON_UNITS:
            raise DataError(f"--carbon-unit must be auto, {', '.join(CARBON_UNITS)}, got {short_repr(given)}")
        factor, words = CARBON_UNITS[given]
        return factor, f"{words}, --carbon-unit"
    key = normalised(column)
    for suffix, factor, words in UNIT_SUFFIXES:
        if re.search(r"_(?:" + suffix + r")$", key):
            return factor, f"{words}, from its name"
    raise DataError(f"{name}: column {column}: its name does not say its unit; give --carbon-unit "
                    f"g/kg, mg/g, percent or mg/kg")


def numbers(frame: pd.DataFrame, column: str, name: str, mark: str, problems: Problems, notes: list[str],
            table_name: str) -> pd.Series:
    """The column as float64; cells that are not numbers are missing, each named in ``problems``."""
    return numeric_column(frame[column], name=name, column=column, policy="nan", mark=mark, problems=problems,
                          notes=notes, table_name=table_name, numeric=True)


def mineral_type(frame: pd.DataFrame, name: str, notes: list[str]) -> pd.Series | None:
    """1 for low-activity (1:1, LM) clays, 0 for high-activity (2:1, HM), missing otherwise; None without the column."""
    column = find(frame, MINERAL_SPELLINGS, name, "mineral type")
    if column is None:
        return None
    text = frame[column].astype("string").str.strip().str.lower().str.replace(" ", "_")
    lm = pd.Series(pd.NA, index=frame.index, dtype="Float64")
    lm[text.isin(_LOW).fillna(False)] = 1.0
    lm[text.isin(_HIGH).fillna(False)] = 0.0
    other = sorted(set(text.dropna()) - _LOW - _HIGH)
    if other:
        notes.append(f"{name}: column {column}: value(s) {', '.join(map(short_repr, other[:5]))} are neither "
                     f"low (LM, 1:1) nor high activity (HM, 2:1): lm missing there")
    notes.append(f"{name}: lm from column {column} ({int((lm == 1).sum())} low-activity, {int((lm == 0).sum())} "
                 f"high-activity, {int(lm.isna().sum())} unknown)")
    return lm.astype("float64")


def vegetation_columns(frame: pd.DataFrame, name: str, notes: list[str]) -> tuple[pd.Series | None, dict]:
    """The vegetation text and one 0/1 column ``veg_<class>`` per class (missing where the row has none)."""
    column = find(frame, VEGETATION_SPELLINGS, name, "vegetation")
    if column is None:
        return None, {}
    text = frame[column].astype("string").str.strip().replace("", pd.NA)
    dummies = {f"veg_{normalised(c)}": (text == c).astype("float64").mask(text.isna()) for c in sorted(set(text.dropna()))}
    notes.append(f"{name}: vegetation from column {column}: {len(dummies)} class(es), one 0/1 column each; "
                 f"{int(text.isna().sum())} row(s) without one")
    return text.astype(object).where(text.notna(), None), dummies


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    parts = [frame[c].astype("string").str.strip().replace("", pd.NA) for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "|" + part
    return joined


def id_column_values(frame: pd.DataFrame, id_columns: tuple, name: str, notes: list[str]) -> pd.Series:
    """The site of each row: ``--id`` columns joined, else a site column, else latitude|longitude,
    else the study (author|year); rows that none of these name are each their own site."""
    if id_columns:
        missing = [c for c in id_columns if c not in frame.columns]
        if missing:
            raise DataError(f"--id {short_repr(missing[0])}: no such column in {name}")
        chosen = [list(id_columns)]
    else:
        site = find(frame, SITE_SPELLINGS, name, "site id")
        lat, lon = find(frame, ("lat", "latitude"), name, "latitude"), find(frame, ("lon", "long", "longitude"),
                                                                           name, "longitude")
        study = [c for c in (find(frame, ("author", "study", "reference", "source_study"), name, "study"),
                             find(frame, ("pub_year", "year"), name, "year")) if c]
        chosen = [c for c in ([site] if site else [], [lat, lon] if lat and lon else [], study) if c]
    ids = pd.Series(pd.NA, index=frame.index, dtype="string")
    for columns in chosen:
        ids = ids.fillna(_joined(frame, columns))
        notes.append(f"{name}: site id from {' + '.join(columns)} ({int(ids.notna().sum())} rows named so far)")
    alone = ids.isna()
    if alone.any():
        notes.append(f"{name}: {int(alone.sum())} row(s) that no id column names: each its own site")
        ids[alone] = "line " + pd.Series(frame.index[alone.to_numpy()], index=frame.index[alone.to_numpy()]).astype(str)
    return ids.astype(str)


__all__ = ["CARBON", "base_name", "carbon_unit", "find", "id_column_values", "mineral_type", "numbers",
           "vegetation_columns"]
