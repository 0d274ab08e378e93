"""A user's table: a CSV or Parquet file read with a column map (id, predictors, forcing, targets)."""
from pathlib import Path

from core.datasets.files import load_file
from core.datasets.registry import DataSourceSpec

SUFFIXES = (".csv", ".txt", ".parquet", ".pq")


def _matches(path: str) -> bool:
    return Path(path).suffix.lower() in SUFFIXES or Path(path).exists()


DATA = DataSourceSpec(name="table", kind="file", description=__doc__, load=load_file, matches=_matches,
                      suffixes=SUFFIXES)
