"""Reading one survey file into a frame of text cells (CSV) or typed columns (Parquet), within
limits checked before anything is read: the file's bytes (a Parquet file's declared uncompressed
size too) and its columns (``--max-bytes``, ``--max-columns``). The header is taken as written:
names are stripped, never renamed (pandas would turn a repeated ``OC`` into ``OC.1``), and checked
by :mod:`.names`. Encoding: :mod:`.encoding`; separator: ``,``, ``;``, tab or ``|``, sniffed from
the first lines only.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pandas as pd

from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.encoding import codec_name, decode
from core.datasets.surveys.names import header_names

#: default limits of one input file
MAX_BYTES = 256 << 20
MAX_COLUMNS = 10_000
#: the text the separator is sniffed from
SNIFF_CHARS = 64 << 10
SEPARATORS = ",;\t|"
#: a header with more separators than four times this is not parsed to count its columns
MAX_COLUMNS_PARSED = 100_000


@dataclass(frozen=True)
class ReadOptions:
    """How the files are read: encoding (None: UTF-8), decimal mark (auto, '.' or ','), limits."""

    encoding: str | None = None
    decimal_mark: str = "auto"
    max_bytes: int = MAX_BYTES
    max_columns: int = MAX_COLUMNS

    def check(self) -> "ReadOptions":
        codec_name(self.encoding)
        for flag, value in (("--max-bytes", self.max_bytes), ("--max-columns", self.max_columns)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise DataError(f"{flag} must be a whole number of at least 1, got {short_repr(value)}")
        if self.decimal_mark not in ("auto", ".", ","):
            raise DataError(f"--decimal-mark must be auto, '.' or ',', got {short_repr(self.decimal_mark)}")
        return self


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"


def _check_bytes(path: Path, n: int, options: ReadOptions, what: str = "") -> None:
    if n > options.max_bytes:
        raise DataError(f"{path.name}: {what}{_size(n)}, more than --max-bytes {options.max_bytes} "
                        f"({_size(options.max_bytes)}); give a larger --max-bytes to read it")


def _check_columns(path: Path, n: int, options: ReadOptions) -> None:
    if n > options.max_columns:
        raise DataError(f"{path.name}: {n} columns, more than --max-columns {options.max_columns}; give a larger "
                        f"--max-columns to read it")


def _read_parquet(path: Path, options: ReadOptions) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        metadata = parquet.metadata
        _check_columns(path, metadata.num_columns, options)
        schema = parquet.schema_arrow
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file: one line
        raise DataError(f"{path}: cannot be read as Parquet ({type(e).__name__})") from None
    unnamed_index = {c for c in (schema.pandas_metadata or {}).get("index_columns", [])
                     if isinstance(c, str) and re.fullmatch(r"__index_level_\d+__", c)}
    names = [n for n in schema.names if n not in unnamed_index]  # pandas' row numbers are not data
    encoded = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    cells = metadata.num_rows * len(names)
    _check_bytes(path, max(encoded, 8 * cells), options, f"{metadata.num_rows} rows x {len(names)} columns, about ")
    names, unnamed = header_names(names, path)
    _check_types(path, schema)
    try:
        import pyarrow as pa

        # an index written as a column stays a column; true/false with gaps stays true/false
        frame = parquet.read().to_pandas(ignore_metadata=True, types_mapper={pa.bool_(): pd.BooleanDtype()}.get)
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file: one line
        raise DataError(f"{path}: cannot be read as Parquet ({type(e).__name__})") from None
    frame = frame.drop(columns=sorted(unnamed_index))
    frame.columns = names
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # rows counted from 1
    frame.attrs.update(separator=None, unnamed=unnamed)
    return frame


def _check_types(path: Path, schema) -> None:
    """Columns of numbers, text, true/false, dates, times or durations; others refused."""
    import pyarrow.types as t

    for field in schema:
        kind = field.type.value_type if t.is_dictionary(field.type) else field.type
        if not any(check(kind) for check in (t.is_integer, t.is_floating, t.is_boolean, t.is_string,
                                              t.is_large_string, t.is_temporal, t.is_null)):
            raise DataError(f"{path.name}: column {field.name} holds {field.type} values, which data lucas does not "
                            f"read; store numbers, text, true/false or dates")


def _separator(text: str) -> str:
    sample = "\n".join(text[:SNIFF_CHARS].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def _header_columns(text: str, separator: str) -> int:
    """The header's columns: counted by separators (an upper bound, as a quoted name may hold
    one), parsed as CSV only when that bound is within reach of the limit."""
    end = text.find("\n")
    first = (text if end < 0 else text[:end]).rstrip("\r")
    bound = first.count(separator) + 1
    if bound > 4 * MAX_COLUMNS_PARSED:
        return bound
    return len(next(csv.reader([first], delimiter=separator), []))


def read_survey_table(path: str | Path, options: ReadOptions = ReadOptions()) -> pd.DataFrame:
    """A CSV file's cells as text (NaN where empty) under its own header, or a Parquet file as it
    is; the index is each row's line in the file (a Parquet file's row, from 1), and
    ``attrs['separator']`` the CSV separator (None for Parquet)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    _check_bytes(path, path.stat().st_size, options)
    if path.suffix.lower() in (".parquet", ".pq"):
        return _read_parquet(path, options)
    with open(path, "rb") as handle:
        raw = handle.read(options.max_bytes + 1)
    _check_bytes(path, len(raw), options)
    text = decode(raw, path, options.encoding)
    del raw
    separator = _separator(text)
    _check_columns(path, _header_columns(text, separator), options)
    try:
        frame = pd.read_csv(StringIO(text), sep=separator, header=None, dtype=str, keep_default_na=False,
                            na_values=[""], skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as e:
        raise DataError(f"{path}: not a table that can be read ({str(e).splitlines()[0][:160]})") from None
    if frame.empty:
        raise DataError(f"{path.name}: the file is empty")
    names, unnamed = header_names(["" if pd.isna(c) else c for c in frame.iloc[0]], path)
    frame = frame.iloc[1:]
    frame.columns = names
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # the file's line of each row (line 1: the header)
    frame.attrs.update(separator=separator, unnamed=unnamed)
    return frame


__all__ = ["MAX_BYTES", "MAX_COLUMNS", "ReadOptions", "read_survey_table"]
