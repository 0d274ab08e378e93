"""The size of a CSV or Parquet table, found without reading it into memory: Parquet from its
footer, CSV by counting lines (an upper bound when quoted fields hold line breaks). A server checks it against its limits before decoding a file."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from core.errors import DataError
from core.datasets.files import table_kind

#: bytes a decoded cell takes at least (a float64 column in pandas)
CELL_BYTES = 8
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TableShape:
    """rows: data rows (header excluded); columns; file_bytes on disk; decoded_bytes: a lower
    bound of the table's size in memory (rows x columns x 8 bytes; text takes more)."""

    rows: int
    columns: int
    file_bytes: int

    @property
    def decoded_bytes(self) -> int:
        return self.rows * self.columns * CELL_BYTES


def _csv_shape(path: Path) -> tuple[int, int]:
    with open(path, "rb") as handle:
        header = handle.readline()
        newlines, last = 0, b"\n"
        while chunk := handle.read(_CHUNK):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    rows = newlines + (last != b"\n")  # a last line without a newline is a row too
    try:
        columns = len(next(csv.reader(io.StringIO(header.decode("utf-8", errors="replace")))))
    except StopIteration:
        columns = 0
    return rows, columns


def _parquet_shape(path: Path) -> tuple[int, int]:
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
    except Exception as e:  # a damaged footer: say so in one line
        raise DataError(f"{path}: cannot be read as PARQUET ({type(e).__name__}: {e})") from None
    return metadata.num_rows, metadata.num_columns


def table_shape(path: str | Path) -> TableShape:
    """Rows and columns of a CSV/Parquet file, from its footer or line count (nothing decoded)."""
    path = Path(path)
    rows, columns = _csv_shape(path) if table_kind(path) == "csv" else _parquet_shape(path)
    return TableShape(rows=rows, columns=columns, file_bytes=path.stat().st_size)
