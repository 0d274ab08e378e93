"""Users' own CSV or Parquet files, mapped to model variables by a column mapping.

Mapping (a dict or a JSON file)::

    {"id": "site",                                   # grouping column for splits
     "targets": {"soc": "OC", "moc": "MAOC"},        # model name -> file column (any may be left out)
     "forcing": {"temp": "MAT", "npp": "NPP"},
     "predictors": ["clay", "ph"] or "*"}            # "*": every other numeric column

Rows that lack a forcing or predictor value are left out of training with a note in
``HybridData.notes`` naming the columns (or refused with ``drop_incomplete=False``); with
``"*"``, columns missing in more than half of the rows are not predictors. The rule is
:mod:`core.datasets.incomplete`'s.

The file is only read, never changed. Problems raise :class:`DataError` naming file, column and row.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from core.io.checksums import sha256
from core.io.documents import load_json
from core.errors import DataError, HybridlabError
from core.datasets.base import TRUE_PREFIX, HybridData
from core.datasets.incomplete import drop_incomplete as drop_incomplete_rows, gappy_predictors
from core.formatting import short_repr

SUFFIXES = {".csv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}


def table_kind(path: Path) -> str:
    """"csv" or "parquet" for an existing file; DataError for a missing file or another type."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unknown file type {short_repr(path.suffix)}; use .csv or .parquet")
    return kind


def _header(path: Path, kind: str) -> list[str]:
    """The column names as the file writes them (pandas would rename a repeated CSV name to
    ``name.1`` and Arrow would fail with its whole schema)."""
    try:
        if kind == "csv":
            with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
                return next(csv.reader([handle.readline()]), [])
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - an unreadable file: read_table says so in one line
        return []


def _check_unique_columns(path: Path, kind: str) -> None:
    names = _header(path, kind)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: column name(s) {', '.join(map(short_repr, repeated[:5]))} appear more than once; "
                        f"rename them so that each column has its own name")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; clear errors for a missing file or an unknown format."""
    path = Path(path)
    kind = table_kind(path)
    _check_unique_columns(path, kind)
    try:
        frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    except Exception as e:  # parser errors differ by engine; report them in one line
        raise DataError(f"{path}: cannot be read as {kind.upper()} ({type(e).__name__}: {e})") from None
    if frame.empty:
        raise DataError(f"{path}: the file has no data rows")
    return frame


def read_mapping(columns: str | Path | dict) -> dict:
    """A column mapping from a dict, a JSON file path or a JSON string."""
    if isinstance(columns, dict):
        return columns
    text = str(columns)
    if not text.lstrip().startswith("{"):
        p = Path(text)
        if not p.is_file():
            raise DataError(f"{p}: column mapping file not found")
        text = p.read_text()
        where = str(p)
    else:
        where = "column mapping"
    try:
        mapping = load_json(text, where)
    except HybridlabError as e:
        raise DataError(str(e)) from None
    if not isinstance(mapping, dict):
        raise DataError(f"{where}: must be a JSON object with keys id, targets, forcing, predictors")
    return mapping


#: the row number of the first data row, as a spreadsheet shows the file (the header is row 1) and as
#: ``data lucas`` counts (a CSV file's line, where no quoted value holds a line break)
FIRST_DATA_ROW = 2


def _first_rows(mask: np.ndarray, k: int = 3) -> str:
    rows = (np.flatnonzero(mask)[:k] + FIRST_DATA_ROW).tolist()
    return ", ".join(map(str, rows))


#: the models compute in float32: larger magnitudes overflow to infinity
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_numeric(frame: pd.DataFrame, column: str, where: str, allow_missing: bool,
                  nonnegative: bool = False, positive: bool = False) -> None:
    """Raise DataError if the column holds text, infinities, values beyond float32 (the models'
    dtype), (disallowed) missing values, negative values (nonnegative) or values <= 0 (positive).
    Rows are numbered as a spreadsheet shows the file: the header is row 1 (FIRST_DATA_ROW)."""
    s = frame[column]
    if not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)):
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna().to_numpy() & s.notna().to_numpy()
        first = np.flatnonzero(bad)[0] if bad.any() else 0
        raise DataError(f"{where}: column {short_repr(column)} must be numeric but row {first + FIRST_DATA_ROW} holds "
                        f"{short_repr(s.iloc[first])} ({int(bad.sum())} non-numeric value(s))")
    v = s.to_numpy(dtype=np.float64)
    inf = np.isinf(v)
    if inf.any():
        raise DataError(f"{where}: column {short_repr(column)} has {int(inf.sum())} infinite value(s), rows {_first_rows(inf)}")
    huge = np.abs(np.nan_to_num(v)) > FLOAT32_MAX
    if huge.any():
        raise DataError(f"{where}: column {short_repr(column)} has {int(huge.sum())} value(s) beyond ±{FLOAT32_MAX:.3g}, rows "
                        f"{_first_rows(huge)}; the models compute in float32, where they would overflow")
    nan = np.isnan(v)
    if nan.any() and not allow_missing:
        raise DataError(f"{where}: column {short_repr(column)} has {int(nan.sum())} missing value(s), rows "
                        f"{_first_rows(nan)}; fill or drop them before loading, or leave such rows out of training "
                        f"(--drop-incomplete)")
    if nonnegative:
        neg = v < 0
        if neg.any():
            raise DataError(f"{where}: column {short_repr(column)} has {int(neg.sum())} negative value(s), rows "
                            f"{_first_rows(neg)}; contents cannot be negative")
    if positive:
        low = v <= 0
        if low.any():
            raise DataError(f"{where}: column {short_repr(column)} has {int(low.sum())} value(s) <= 0, rows {_first_rows(low)}; "
                            f"the model divides by it or takes its logarithm, so it must be positive")


def _check_mapping_types(mapping: dict) -> None:
    """Column names are strings: id a string, targets and forcing maps of strings, predictors a
    list of strings or "*"."""
    if "id" in mapping and not isinstance(mapping["id"], str):
        raise DataError(f"column mapping: 'id' must be a column name (text), got {short_repr(mapping['id'])}")
    for key in ("targets", "forcing"):
        block = mapping.get(key)
        if block is None:
            continue
        if not isinstance(block, dict):
            raise DataError(f"column mapping: '{key}' must map model names to column names, got {short_repr(block)}")
        for name, column in block.items():
            if not isinstance(column, str) or not column:
                raise DataError(f"column mapping: {key} {short_repr(name)} must be one column name (text), got {short_repr(column)}")
    predictors = mapping.get("predictors", "*")
    if predictors != "*" and (not isinstance(predictors, list) or not all(isinstance(c, str) for c in predictors)):
        raise DataError(f"column mapping: 'predictors' must be a list of column names or \"*\", got {short_repr(predictors)}")


def _roles(mapping: dict) -> tuple[str, dict, dict]:
    """id column, targets and forcing of a checked mapping."""
    unknown = set(mapping) - {"id", "targets", "forcing", "predictors", "units"}  # units: documentation only
    if unknown:
        raise DataError(f"column mapping: unknown key(s) {', '.join(sorted(unknown))}; "
                        "use id, targets, forcing, predictors")
    _check_mapping_types(mapping)
    id_col = mapping.get("id")
    if not id_col:
        raise DataError("column mapping: 'id' (the site or profile id column) is required")
    targets = dict(mapping.get("targets") or {})
    if not targets:
        raise DataError("column mapping: 'targets' must map at least one model target to a column")
    return id_col, targets, dict(mapping.get("forcing") or {})


def _all_numeric(frame: pd.DataFrame, taken: set[str], where: str) -> list[str]:
    """``"*"``: every numeric column not taken and not a truth column; a mostly numeric column
    with some text is refused (a broken numeric column, not a label column)."""
    preds = []
    for c in frame.columns:
        if c in taken or c.startswith(TRUE_PREFIX):
            continue
        s = frame[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            preds.append(c)
        elif pd.to_numeric(s, errors="coerce").notna().mean() > 0.5:
            check_numeric(frame, c, where, allow_missing=False)
    return preds


def _predictors(frame: pd.DataFrame, preds, named: list[str], where: str, notes: list[str]) -> list[str]:
    """The predictor columns (``"*"`` without the gappy ones, see :mod:`.incomplete`), every
    named column found in the file."""
    missing = [c for c in named if c not in frame.columns]
    if preds == "*":
        preds, gappy = gappy_predictors(frame, _all_numeric(frame, set(named), where), Path(where).name)
        notes += gappy
    else:
        missing += [c for c in preds if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: column(s) {', '.join(map(repr, missing))} not found; the file has "
                        f"{', '.join(map(str, frame.columns[:30]))}{' ...' if len(frame.columns) > 30 else ''}")
    return list(preds)


def _check_leaks(targets: dict, forcing: dict, preds: list[str]) -> None:
    truth_pred = [c for c in preds if c.startswith(TRUE_PREFIX)]
    if truth_pred:
        raise DataError(f"column mapping: truth column(s) {', '.join(truth_pred)} cannot be predictors")
    as_forcing = [f"{short_repr(c)} ({name})" for name, c in targets.items() if c in forcing.values()]
    if as_forcing:
        raise DataError(f"column mapping: target column {', '.join(as_forcing)} is also a forcing, so the model "
                        "would be given the answer; map the forcing to another column")
    leaks = [f"{short_repr(c)} ({name})" for name, c in targets.items() if c in preds]
    if leaks:
        raise DataError(f"column mapping: target column {', '.join(leaks)} is also a predictor, so the network "
                        "would see the answer; remove it from 'predictors'")


def _check_targets(frame: pd.DataFrame, targets: dict, where: str) -> None:
    """Every target observed at least twice, and not constant, in the rows kept."""
    for name, col in targets.items():
        if frame[col].notna().sum() < 2:
            raise DataError(f"{where}: target column {short_repr(col)} ({name}) has fewer than 2 observations")
        if frame[col].nunique() < 2:
            raise DataError(f"{where}: target column {short_repr(col)} ({name}) is constant ({float(frame[col].dropna().iloc[0]):g} "
                            "in every row); KGE needs observations that vary")


def load_file(path: str | Path, columns: str | Path | dict, *, nonnegative: set[str] = frozenset(),
              positive: set[str] = frozenset(), predictors: list[str] | None = None,
              drop_incomplete: bool = True) -> HybridData:
    """Load a CSV/Parquet file with a column mapping into :class:`HybridData`.

    nonnegative / positive: model variable names (targets or forcing) whose values must be >= 0 / > 0.
    predictors: use these columns instead of the mapping's. drop_incomplete: rows that lack a
    forcing or predictor value are left out with a note in ``notes`` (True) or refused (False);
    see :mod:`core.datasets.incomplete`.
    """
    where, notes = str(path), []
    frame = read_table(path)
    mapping = read_mapping(columns)
    id_col, targets, forcing = _roles(mapping)
    named = [id_col, *targets.values(), *forcing.values()]
    preds = _predictors(frame, mapping.get("predictors", "*") if predictors is None else predictors, named, where,
                        notes)
    _check_leaks(targets, forcing, preds)
    if frame[id_col].isna().any():
        raise DataError(f"{where}: id column {short_repr(id_col)} has missing values, rows {_first_rows(frame[id_col].isna().to_numpy())}")
    for name, col in targets.items():
        check_numeric(frame, col, where, allow_missing=True, nonnegative=name in nonnegative,
                      positive=name in positive)
    for name, col in forcing.items():
        check_numeric(frame, col, where, allow_missing=drop_incomplete, nonnegative=name in nonnegative,
                      positive=name in positive)
    for col in preds:
        check_numeric(frame, col, where, allow_missing=drop_incomplete)
    for col in frame.columns:
        if col.startswith(TRUE_PREFIX):
            check_numeric(frame, col, where, allow_missing=True)
    if drop_incomplete:
        frame, dropped = drop_incomplete_rows(frame, [*forcing.values(), *preds], Path(where).name, id_column=id_col)
        notes += dropped
    _check_targets(frame, targets, where)
    return HybridData(frame, id=id_col, predictors=preds, forcing=forcing, targets=targets,
                      source={"path": str(Path(path).resolve()), "columns": mapping,
                              "drop_incomplete": drop_incomplete, "sha256": sha256(path)}, notes=notes)
