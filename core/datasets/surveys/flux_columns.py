"""Eddy-covariance files as people have them, read and recognised from the header: the
FLUXNET2015 / ONEFlux FULLSET layout (``TIMESTAMP_START``, ``NEE_VUT_REF`` + ``_QC``, ``TA_F``,
``TS_F_MDS_1``, ``NIGHT``), the europe-fluxdata / ICOS layout (``TIMESTAMP_END``, ``FC``, ``SC``,
``FC_SSITC_TEST``, profile suffixes ``_1_1_1``), and the REddyProc input text (``Year DoY Hour NEE
... Ustar``, a units line under the header, tab-separated).

Missing values are ``-9999`` (and ``NA``, as R writes them); they are counted per column, never
read as numbers. A units line (a row of text under the header) is read and kept: it gives the
unit of VPD where a layout leaves it open.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.numbers import decimal_mark, parse_cells, MISSING, NUMBER
from core.datasets.surveys.reading import ReadOptions, read_survey_table
from core.datasets.surveys.tables import Problems, numeric_column

#: cells that mean "no value" in flux files (FLUXNET's -9999, R's NA)
MISSING_CODES = ("-9999", "-9999.0", "-9999.00", "-9999.000", "NA", "NaN", "nan", "N/A")
LAYOUTS = {"fluxnet2015": "FLUXNET2015 / ONEFlux FULLSET", "icos": "europe-fluxdata / ICOS",
           "reddyproc": "REddyProc input text"}
#: variable -> its spellings, best first (case ignored; an ICOS profile suffix _H_V_R or a
#: FLUXNET depth index _N is set aside, the lowest position taken)
SPELLINGS = {
    "nee": ("NEE_VUT_REF", "NEE_VUT_USTAR50", "NEE_VUT_MEAN", "NEE_CUT_REF", "NEE_CUT_USTAR50", "NEE_CUT_MEAN",
            "NEE_PI", "NEE_PI_F", "NEE"),
    "fc": ("FC", "FC_PI"),
    "sc": ("SC", "SC_PI"),
    "ta": ("TA_F", "TA_F_MDS", "TA", "TA_PI_F", "TAIR", "T_AIR"),
    "ts": ("TS_F_MDS", "TS_F", "TS", "TSOIL", "T_SOIL"),
    "sw_in": ("SW_IN_F", "SW_IN_F_MDS", "SW_IN", "RG"),
    "ppfd_in": ("PPFD_IN", "PPFD"),
    "vpd": ("VPD_F", "VPD_F_MDS", "VPD"),
    "swc": ("SWC_F_MDS", "SWC_F", "SWC"),
    "ustar": ("USTAR", "U_STAR", "U*"),
    "night": ("NIGHT",),
    "reco_network": ("RECO_NT_VUT_REF", "RECO_NT_VUT_USTAR50", "RECO_NT_VUT_MEAN", "RECO_NT_CUT_REF",
                     "RECO_NT_CUT_MEAN", "RECO_NT", "RECO"),
}
_POSITION = re.compile(r"^(?P<base>.*?[A-Z*])(?P<position>(?:_\d+){1,3})$")


@dataclass
class FluxFile:
    """One flux file: its layout, text cells (index: the file's line), units line and names found."""

    path: Path
    layout: str
    cells: pd.DataFrame
    units: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    mark: str = "."
    missing: dict = field(default_factory=dict)


def split_position(name: str) -> tuple[str, tuple[int, ...]]:
    """``TS_F_MDS_2`` -> (``TS_F_MDS``, (2,)); ``SW_IN_1_1_1`` -> (``SW_IN``, (1, 1, 1)); ``TA_F`` -> (``TA_F``, ())."""
    key = str(name).strip().upper()
    match = _POSITION.match(key)
    if not match:
        return key, ()
    return match.group("base"), tuple(int(p) for p in match.group("position").strip("_").split("_"))


def find_variable(columns, variable: str) -> str | None:
    """The column holding ``variable`` (see :data:`SPELLINGS`), or None."""
    parts = {column: split_position(column) for column in columns}
    for spelling in SPELLINGS[variable]:
        exact = [c for c in columns if str(c).strip().upper() == spelling]
        if exact:
            return exact[0]
        placed = sorted((position, c) for c, (base, position) in parts.items() if position and base == spelling)
        if placed:
            return placed[0][1]
    return None


def detect_layout(columns, path: Path) -> str:
    """The layout named by the header (see the module's text); one line naming what was looked for."""
    upper = {str(c).strip().upper() for c in columns}
    has_time = any(c.startswith("TIMESTAMP") for c in upper)
    if {"YEAR", "DOY", "HOUR"} <= upper:
        if find_variable(columns, "nee") or find_variable(columns, "fc"):
            return "reddyproc"
    elif has_time and any(c.startswith(("NEE_VUT", "NEE_CUT")) for c in upper):
        return "fluxnet2015"
    elif has_time and find_variable(columns, "fc"):
        return "icos"
    elif has_time and find_variable(columns, "nee"):
        return "fluxnet2015"
    raise DataError(f"{path.name}: not a flux file this importer knows: no TIMESTAMP_START/TIMESTAMP_END with "
                    f"NEE_VUT_*/NEE_CUT_*/NEE (FLUXNET2015) or FC (ICOS), and no Year, DoY, Hour with NEE (REddyProc); "
                    f"columns are {', '.join(map(short_repr, list(columns)[:12]))}")


def _units_line(cells: pd.DataFrame) -> dict:
    """The units under the header (a first row mostly of text where later rows hold numbers), or {}."""
    if len(cells) < 2:
        return {}
    first = [c for c in cells.iloc[0].dropna().astype(str) if c.strip() not in MISSING_CODES]
    if not first:
        return {}
    _, status = parse_cells(pd.Series(first, dtype=object), ".")
    if (status == NUMBER).sum() > len(first) / 2:
        return {}
    return {column: str(unit).strip() for column, unit in cells.iloc[0].items() if isinstance(unit, str)}


def read_flux_file(path: str | Path, options: ReadOptions = ReadOptions()) -> FluxFile:
    """The file's cells, layout, units line and missing-value codes set aside (see the module's text)."""
    path = Path(path)
    cells = read_survey_table(path, options)
    layout = detect_layout(cells.columns, path)
    units = _units_line(cells)
    if units:
        cells = cells.iloc[1:]
    if cells.empty:
        raise DataError(f"{path.name}: no data rows under the header")
    names = {variable: find_variable(cells.columns, variable) for variable in SPELLINGS}
    flux = FluxFile(path, layout, cells, units, {k: v for k, v in names.items() if v})
    flux.mark = decimal_mark(cells[[c for c in flux.names.values()]], path.name, cells.attrs.get("separator"),
                             options.decimal_mark)
    return flux


def numbers(flux: FluxFile, column: str, problems: Problems, notes: list[str]) -> pd.Series:
    """A column as float64 (index: the file's line): missing codes counted in ``flux.missing``,
    other text a problem line each (file, column, row), taken as missing."""
    text = flux.cells[column]
    codes = text.astype("string").str.strip().isin(MISSING_CODES).fillna(False).to_numpy(dtype=bool)
    if codes.any():
        flux.missing[column] = int(codes.sum())
    text = text.mask(codes)
    return numeric_column(text, name=flux.path.name, column=column, policy="nan", mark=flux.mark,
                          problems=problems, notes=notes, numeric=True)


def quality_column(flux: FluxFile, column: str) -> str | None:
    """The quality flag of ``column``: FLUXNET's ``<column>_QC``, ICOS's ``<base>_SSITC_TEST``."""
    base, position = split_position(column)
    suffix = "".join(f"_{p}" for p in position)
    wanted = [f"{column}_QC".upper(), f"{base}_SSITC_TEST{suffix}", f"{base}_SSITC_TEST", f"{column}_FQC".upper()]
    upper = {str(c).strip().upper(): c for c in flux.cells.columns}
    return next((upper[w] for w in wanted if w in upper), None)


def empty_columns(values: dict[str, pd.Series]) -> list[str]:
    """The variables whose column holds no value at all."""
    return [name for name, series in values.items() if not np.isfinite(series.to_numpy(dtype=float)).any()]


__all__ = ["FluxFile", "LAYOUTS", "MISSING", "MISSING_CODES", "SPELLINGS", "detect_layout", "empty_columns",
           "find_variable", "numbers", "quality_column", "read_flux_file", "split_position"]
