"""The cells of the tables soil surveys publish, taken as they are: numbers with the file's
decimal mark (:mod:`.numbers`), values below a detection limit written as text (``< LOD``,
``<0.5``), an id column spelled several ways, Parquet columns of numbers, text, true/false or
dates. Nothing here changes a value silently: every value that is not taken as written is
counted, and each problem is one line naming the file, the column and the row
(:class:`Problems`). Reading a file: :mod:`.reading`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.numbers import MISSING, NOT_A_NUMBER, NOT_FINITE, NUMBER, OTHER_MARK, check_floats, parse_cells

#: how a value below its detection limit is taken: missing, half the limit, or the limit itself
BELOW_DETECTION = ("nan", "half", "limit")
#: "< LOD", "<LOD", "<0.5", "< 0,5", "LOD", "<LOQ", "below LOD" (case-insensitive)
_BELOW = re.compile(r"^\s*(?:<\s*(?P<limit>[0-9]+(?:[.,][0-9]+)?)|<?\s*(?:below\s+)?(?:lod|loq|dl))\s*$", re.I)
#: the share of a column's filled cells that must read as numbers for it to count as numeric
NUMERIC_SHARE = 0.5
#: problem lines kept per file and column (the rest are counted)
SHOWN = 5
NOT_NUMBER = "not a number, taken as missing"
NOT_FINITE_KIND = "not a finite number (inf, nan or beyond float32), taken as missing"
_WHAT = {NOT_A_NUMBER: ("is not a number", NOT_NUMBER), NOT_FINITE: ("is not a finite number", NOT_FINITE_KIND),
         OTHER_MARK: ("is not a number with this file's decimal mark {!r}", NOT_NUMBER)}


@dataclass
class Problems:
    """What reading and joining found: lines naming file, column and row, and counts by kind."""

    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    #: kind -> column -> count (the table's column names)
    by_column: dict[str, dict[str, int]] = field(default_factory=dict)
    _shown: dict[tuple, int] = field(default_factory=dict)

    def count(self, kind: str, column: str) -> None:
        """One more value of ``kind`` in ``column``."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        columns = self.by_column.setdefault(kind, {})
        columns[column] = columns.get(column, 0) + 1

    def summary(self) -> list[str]:
        """``below detection limit, nan: 78 value(s) in oc (45), p (33)``, one line per kind."""
        lines = []
        for kind, total in sorted(self.counts.items()):
            columns = sorted(self.by_column.get(kind, {}).items(), key=lambda item: -item[1])
            named = ", ".join(f"{column} ({n})" for column, n in columns)
            lines.append(f"{kind}: {total} value(s)" + (f" in {named}" if named else ""))
        return lines

    def add(self, kind: str, where: tuple, line: str, column: str | None = None) -> None:
        """Count one problem of ``kind`` (in the table's ``column``, default where's column); keep
        its line unless SHOWN lines of ``where`` are kept."""
        self.count(kind, column or where[1])
        shown = self._shown.get(where, 0)
        if shown < SHOWN:
            self.lines.append(line)
        elif shown == SHOWN:
            self.lines.append(f"{where[0]}: column {where[1]}: more problems of this kind, counted below")
        self._shown[where] = shown + 1


def find_column(frame: pd.DataFrame, spellings, path: Path, what: str, required: bool = True) -> str | None:
    """The column whose name matches one of ``spellings`` (case, spaces and underscores ignored)."""
    def key(name: str) -> str:
        return re.sub(r"[\s_\-()]", "", str(name)).lower()

    wanted = {key(s) for s in spellings}
    found = [c for c in frame.columns if key(c) in wanted]
    if len(found) > 1:
        raise DataError(f"{path}: columns {', '.join(map(short_repr, found))} all look like the {what}; keep one")
    if not found and required:
        raise DataError(f"{path}: no {what} column (looked for {', '.join(spellings)}); columns are "
                        f"{', '.join(map(short_repr, list(frame.columns)[:12]))}")
    return found[0] if found else None


def _typed(values: pd.Series, name: str, column: str, notes: list[str]) -> pd.Series | None:
    """A Parquet column that is not text: numbers as float64, true/false as 1/0 (said in
    ``notes``), dates and durations None (kept as they are, not numbers); other types refused."""
    if pd.api.types.is_bool_dtype(values):
        notes.append(f"{name}: column {column}: true/false taken as 1/0")
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        notes.append(f"{name}: column {column}: dates or durations, kept as they are and not taken as a predictor")
        return None
    raise DataError(f"{name}: column {column} holds {values.dtype} values, which data lucas does not read; store "
                    f"numbers, text, true/false or dates")


def _text_cells(values: pd.Series, name: str, column: str) -> pd.Series:
    """The column as text cells (NaN where missing); values of other Python types are refused."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    cells = values.to_numpy(dtype=object)
    for row, cell in zip(values.index, cells):
        if not (cell is None or isinstance(cell, str) or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA):
            raise DataError(f"{name}: column {column}, row {row}: {type(cell).__name__} value {short_repr(cell)}; "
                            f"data lucas reads numbers, text, true/false or dates")
    return pd.Series(cells, index=values.index, dtype=object)


def numeric_column(values: pd.Series, *, name: str, column: str, policy: str, mark: str, problems: Problems,
                   notes: list[str], table_name: str | None = None, numeric: bool = False) -> pd.Series | None:
    """The column as float64 (index: each cell's row), or None for a text column (fewer than
    NUMERIC_SHARE of its filled cells read as numbers, non-finite values or detection limits;
    never with ``numeric``, for a quantity that is a number whatever its cells hold).
    Values below detection follow ``policy`` and are counted; infinities, ``nan`` and other text
    become missing, each cell a problem line (file, column, row). ``table_name``: the column's
    name in the joined table, which the counts give (default ``column``)."""
    table_name = table_name or column
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object
            or isinstance(values.dtype, pd.CategoricalDtype)):
        typed = _typed(values, name, column, notes)
        if typed is None:
            return None
        out, status = check_floats(typed.to_numpy())
        cells = typed.astype(object)
    else:
        cells = _text_cells(values, name, column)
        out, status = parse_cells(cells, mark)
    below = [(p, m) for p in np.flatnonzero(status == NOT_A_NUMBER) if (m := _BELOW.match(str(cells.iloc[p])))]
    text = int((status == NOT_A_NUMBER).sum()) - len(below)
    filled = int((status != MISSING).sum())
    if filled and text > (1 - NUMERIC_SHARE) * filled and not numeric:
        return None
    for position, match in below:
        limit = match.group("limit")
        out[position] = _below_value(float(limit.replace(",", ".")) if limit else None, policy)
        status[position] = NUMBER
        kind = f"below detection limit, {policy}" if limit else f"below detection, no limit given, {policy}"
        problems.count(kind, table_name)
    for position in np.flatnonzero(np.isin(status, (NOT_A_NUMBER, NOT_FINITE, OTHER_MARK))):
        what, kind = _WHAT[status[position]]
        problems.add(kind, (name, column), f"{name}: column {column}, row {values.index[position]}: "
                     f"{short_repr(cells.iloc[position])} {what.format(mark)}; taken as missing", table_name)
    return pd.Series(out, index=values.index, dtype="float64")


def _below_value(limit: float | None, policy: str) -> float:
    if policy == "nan" or limit is None:
        return np.nan
    return limit / 2 if policy == "half" else limit


__all__ = ["BELOW_DETECTION", "NOT_FINITE_KIND", "NOT_NUMBER", "Problems", "find_column", "numeric_column"]
