"""The one number parser of the importers: finite decimal numbers, nothing else.

A number is an optional sign (``+``, ``-`` or the minus sign U+2212), ASCII digits with at most
one decimal mark, and an optional exponent (``1.5``, ``-.5``, ``3``, ``2,5e-3``). The decimal mark
is ``.`` or ``,``, one per file (:func:`decimal_mark`): a file whose cells use both is refused
unless the mark is given. Everything else is not a number: ``1_5``, ``0x10``, ``1.234,5``
(thousands separators), digits of other scripts, ``nan``, ``inf``, ``Infinity``. ``inf``/``nan``
words and numbers beyond the float32 range (``1e999``, the models compute in float32) are told
apart as *not finite*; both are counted by the caller, never taken as numbers.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr

#: the decimal marks a file may use
MARKS = (".", ",")
#: the largest magnitude taken (the models compute in float32)
FLOAT32_MAX = float(np.finfo(np.float32).max)
#: ASCII blanks around a cell are not part of it
BLANKS = " \t\r\n"
#: status of a parsed cell (OTHER_MARK: a number only with the decimal mark the file does not use)
NUMBER, MISSING, NOT_A_NUMBER, NOT_FINITE, OTHER_MARK = 0, 1, 2, 3, 4
_NOT_FINITE_WORDS = re.compile(r"[+\-\u2212]?(?:nan|inf|infinity)", re.IGNORECASE)


def grammar(mark: str) -> str:
    """The regular expression (ASCII only, whole cell) of a number with decimal ``mark``."""
    if mark not in MARKS:
        raise ValueError(f"decimal mark must be one of {MARKS}, got {mark!r}")
    m = re.escape(mark)
    return rf"[+\-\u2212]?(?:[0-9]+(?:{m}[0-9]*)?|{m}[0-9]+)(?:[eE][+\-]?[0-9]+)?"


_GRAMMARS = {mark: re.compile(grammar(mark)) for mark in MARKS}


def parse_number(text: str, mark: str = ".") -> tuple[int, float]:
    """(status, value) of one cell: (NUMBER, x), (MISSING, nan) for an empty cell, (NOT_FINITE,
    nan) for inf/nan words and magnitudes beyond float32, (OTHER_MARK, nan) for a number written
    with the other decimal mark, (NOT_A_NUMBER, nan) for anything else."""
    cell = text.strip(BLANKS)
    if not cell:
        return MISSING, np.nan
    if _GRAMMARS[mark].fullmatch(cell) is None:
        if _NOT_FINITE_WORDS.fullmatch(cell):
            return NOT_FINITE, np.nan
        return (OTHER_MARK if _GRAMMARS["," if mark == "." else "."].fullmatch(cell) else NOT_A_NUMBER), np.nan
    value = float(cell.replace("\u2212", "-").replace(mark, "."))
    if not abs(value) <= FLOAT32_MAX:
        return NOT_FINITE, np.nan
    return NUMBER, value


def parse_cells(values: pd.Series, mark: str) -> tuple[np.ndarray, np.ndarray]:
    """Values (float64, nan where not a number) and statuses of a column of text cells."""
    out = np.full(len(values), np.nan)
    status = np.full(len(values), MISSING, dtype=np.int8)
    for position, cell in enumerate(values.to_numpy()):
        if isinstance(cell, str):
            status[position], out[position] = parse_number(cell, mark)
    return out, status


def check_floats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and statuses of a column already numeric (Parquet): infinities and magnitudes
    beyond float32 are NOT_FINITE (set missing), NaN is MISSING."""
    values = np.asarray(values, dtype="float64").copy()
    status = np.where(np.isnan(values), MISSING, NUMBER).astype(np.int8)
    bad = ~np.isnan(values) & ~(np.abs(values) <= FLOAT32_MAX)
    status[bad] = NOT_FINITE
    values[bad] = np.nan
    return values, status


def _first_with(frame: pd.DataFrame, mark: str) -> tuple[str, int, str] | None:
    """(column, row position, cell) of the first cell that is a number only with ``mark``."""
    pattern = grammar(mark)
    for column in frame.columns:
        text = frame[column]
        if not (pd.api.types.is_string_dtype(text) or text.dtype == object):
            continue
        cells = text.astype("string").str.strip(BLANKS)
        hits = (cells.str.fullmatch(pattern) & cells.str.contains(re.escape(mark), regex=True)).fillna(False)
        hits = hits.to_numpy(dtype=bool)
        if hits.any():
            position = int(np.flatnonzero(hits)[0])
            return str(column), position, str(cells.iloc[position])
    return None


def decimal_mark(frame: pd.DataFrame, name: str, separator: str, given: str = "auto",
                 lines: np.ndarray | None = None) -> str:
    """The file's decimal mark: ``given`` unless "auto"; ``.`` for a comma-separated file; else
    the one mark its cells use. Cells using both refuse the file (one line naming both cells)."""
    if given in MARKS:
        return given
    if given != "auto":
        raise DataError(f"--decimal-mark must be auto, '.' or ',', got {short_repr(given)}")
    if separator == ",":
        return "."
    comma, dot = _first_with(frame, ","), _first_with(frame, ".")
    if comma and dot:
        def where(hit):
            row = hit[1] + 2 if lines is None else lines[hit[1]]
            return f"column {hit[0]}, row {row}: {short_repr(hit[2])}"

        raise DataError(f"{name}: decimal marks mixed ({where(comma)} uses ',', {where(dot)} uses '.'); a file takes "
                        f"one; give --decimal-mark ',' or '.' (cells with the other mark are then not numbers)")
    return "," if comma else "."


__all__ = ["FLOAT32_MAX", "MARKS", "MISSING", "NOT_A_NUMBER", "NOT_FINITE", "NUMBER", "OTHER_MARK", "check_floats",
           "decimal_mark", "grammar", "parse_cells", "parse_number"]
