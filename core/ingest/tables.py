"""Reading the tables soil surveys publish, as they are: a byte-order mark, ``;`` or tab
separators, decimal commas, values below a detection limit written as text (``< LOD``, ``<0.5``),
and an id column spelled several ways. Nothing here changes a value silently: every value that is
not taken as written is counted, and each problem is one line naming the file, the column and the
row (:class:`Problems`).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formatting import short_repr

#: how a value below its detection limit is taken: missing, half the limit, or the limit itself
BELOW_DETECTION = ("nan", "half", "limit")
#: "< LOD", "<LOD", "<0.5", "< 0,5", "LOD", "<LOQ", "below LOD" (case-insensitive)
_BELOW = re.compile(r"^\s*(?:<\s*(?P<limit>[0-9]+(?:[.,][0-9]+)?)|<?\s*(?:below\s+)?(?:lod|loq|dl))\s*$", re.I)
#: the share of a column's filled cells that must read as numbers for it to count as numeric
NUMERIC_SHARE = 0.5
#: problem lines kept per file and column (the rest are counted)
SHOWN = 5


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


def read_survey_table(path: str | Path) -> pd.DataFrame:
    """Every cell as text (or NaN), with the separator, decimal mark and encoding found from the
    file; a Parquet file is read as it is."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - a damaged or foreign file: one line
            raise DataError(f"{path}: cannot be read as Parquet ({type(e).__name__})") from None
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = "\n".join(text.splitlines()[:50])
    try:
        separator = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        separator = ","
    from io import StringIO

    try:
        frame = pd.read_csv(StringIO(text), sep=separator, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as e:
        raise DataError(f"{path}: not a table that can be read ({str(e).splitlines()[0][:160]})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["decimal_comma"] = separator == ";"
    return frame


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


def _number(text: str, decimal_comma: bool) -> float | None:
    text = text.strip().replace("\u2212", "-")
    if decimal_comma:
        text = text.replace(".", "").replace(",", ".") if re.fullmatch(r"-?[0-9.]+,[0-9]+", text) else text
    try:
        return float(text)
    except ValueError:
        return None


def numeric_column(values: pd.Series, *, path: Path, column: str, policy: str, decimal_comma: bool,
                   problems: Problems, lines: np.ndarray | None = None, name: str | None = None) -> pd.Series | None:
    """The column as float64, or None for a text column (fewer than NUMERIC_SHARE of its filled
    cells read as numbers or detection limits). Values below detection follow ``policy`` and are
    counted; other text becomes missing, each cell a problem line (file, column, row). lines: the
    file's line number of each cell (default: a header line, then one line per cell); name: the
    column's name in the joined table, which the counts give (default ``column``)."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    out = np.full(len(values), np.nan)
    below, text = [], []
    for position, cell in enumerate(values.to_numpy()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            continue
        number = _number(str(cell), decimal_comma)
        match = None if number is not None else _BELOW.match(str(cell))
        if number is not None:
            out[position] = number
        elif match:
            limit = match.group("limit")
            below.append((position, float(limit.replace(",", ".")) if limit else None))
        else:
            text.append((position, str(cell)))
    filled = int(values.notna().sum())
    if filled and len(text) > (1 - NUMERIC_SHARE) * filled:
        return None
    for position, limit in below:
        out[position] = _below_value(limit, policy)
        kind = f"below detection limit, {policy}" if limit is not None else f"below detection, no limit given, {policy}"
        problems.count(kind, name or column)
    lines = np.arange(len(values)) + 2 if lines is None else lines
    for position, cell in text:
        problems.add("not a number, taken as missing", (path.name, column),
                     f"{path.name}: column {column}, row {lines[position]}: {short_repr(cell)} is not a number; "
                     f"taken as missing", name or column)
    return pd.Series(out, index=values.index, dtype="float64")


def _below_value(limit: float | None, policy: str) -> float:
    if policy == "nan" or limit is None:
        return np.nan
    return limit / 2 if policy == "half" else limit


__all__ = ["BELOW_DETECTION", "Problems", "find_column", "numeric_column", "read_survey_table"]
