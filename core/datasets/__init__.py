"""Data sets: built-in synthetic sets with a known truth, and users' CSV/Parquet files.

Add a built-in set by writing a module with a ``load(n=None, seed=0) -> HybridData`` function
and naming it in :data:`BUILTIN`.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from . import respiration
from .base import TRUE_PREFIX, HybridData
from .files import load_file, read_mapping, read_table

BUILTIN = {
    "respiration-synthetic": respiration.load,
}


def builtin_names() -> list[str]:
    return sorted(BUILTIN)


def load_data(name_or_path: str, columns=None, n: int | None = None, seed: int = 0,
              nonnegative: set[str] = frozenset()) -> HybridData:
    """A built-in data set by name, or a file (CSV/Parquet) with a column mapping."""
    if name_or_path in BUILTIN:
        if columns is not None:
            raise DataError(f"built-in data {name_or_path!r} takes no column mapping")
        return BUILTIN[name_or_path](n=n, seed=seed)
    if Path(name_or_path).suffix.lower() in (".csv", ".txt", ".parquet", ".pq") or Path(name_or_path).exists():
        if columns is None:
            raise DataError(f"{name_or_path}: a data file needs a column mapping (--columns MAP.json)")
        return load_file(name_or_path, columns, nonnegative=nonnegative)
    raise DataError(f"unknown data {name_or_path!r}; built-in: {', '.join(builtin_names())}, "
                    "or give a .csv/.parquet file with --columns")


SAMPLE_SITES = {"respiration-synthetic": 10}


def write_samples(folder: str | Path) -> list[Path]:
    """Write the small committed sample of each built-in set (``<name>-sample.csv``) to folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, n in SAMPLE_SITES.items():
        path = folder / f"{name}-sample.csv"
        BUILTIN[name](n=n, seed=0).frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def load_source(source: dict) -> HybridData:
    """Load data again from a run's recorded source."""
    if "name" in source:
        return load_data(source["name"], n=source.get("n"), seed=source.get("seed", 0))
    return load_file(source["path"], source["columns"])


__all__ = ["HybridData", "TRUE_PREFIX", "BUILTIN", "builtin_names", "load_data", "load_source",
           "load_file", "read_mapping", "read_table", "write_samples", "SAMPLE_SITES"]
