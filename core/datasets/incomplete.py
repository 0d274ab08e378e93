"""The one rule for incomplete rows of a data file, shared by ``data lucas``, ``train``, ``sweep``,
``experiment`` and the dashboard.

- A row that lacks a forcing value or a predictor value is left out of training, never imputed.
  The rows left out are counted in one note naming the columns, e.g.
  ``LUCAS.parquet: 5 of 60 rows left out of training: missing temp (5), clay (2)``. Targets may
  be missing: a missing observation is masked in the loss, so the row stays.
- With ``drop_incomplete=False`` (``--no-drop-incomplete``) such a row is refused instead, with
  the column and the rows named.
- If fewer than :data:`MIN_COMPLETE_ROWS` rows remain, the data are refused in one line naming
  the columns with gaps.
- With ``predictors: "*"`` (every other numeric column), a column missing in more than half of
  the rows (:data:`GAPPY_SHARE`) is not taken as a predictor, with a note naming it, so that one
  sparsely measured column cannot take most rows out of training. Name it in an explicit list to
  use it anyway.
"""
from __future__ import annotations

import pandas as pd

from core.errors import DataError

#: rows left out only while at least this many complete rows remain ("a handful")
MIN_COMPLETE_ROWS = 5
#: with predictors "*", a column missing in more than this share of the rows is not a predictor
GAPPY_SHARE = 0.5
#: columns named in a note; the rest are counted
NAMED_COLUMNS = 8
#: ids of the rows left out named in a note; the rest are counted
NAMED_IDS = 5


def missing_counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Column -> number of missing values, for the columns with any, most first."""
    counts = {c: int(frame[c].isna().sum()) for c in dict.fromkeys(columns)}
    return dict(sorted(((c, n) for c, n in counts.items() if n), key=lambda item: -item[1]))


def describe_counts(counts: dict[str, int]) -> str:
    """``temp (5), clay (2)``; past NAMED_COLUMNS columns, ``and 3 more column(s)``."""
    named = [f"{column} ({n})" for column, n in list(counts.items())[:NAMED_COLUMNS]]
    rest = len(counts) - NAMED_COLUMNS
    return ", ".join(named) + (f" and {rest} more column(s)" if rest > 0 else "")


def gappy_predictors(frame: pd.DataFrame, columns: list[str], where: str) -> tuple[list[str], list[str]]:
    """The columns kept as predictors of ``"*"`` and the notes: a column missing in more than
    GAPPY_SHARE of the rows is left out."""
    counts = missing_counts(frame, columns)
    gappy = {c: n for c, n in counts.items() if n > GAPPY_SHARE * len(frame)}
    if not gappy:
        return list(columns), []
    shown = ", ".join(f"{c} ({n} of {len(frame)} missing)" for c, n in list(gappy.items())[:NAMED_COLUMNS])
    more = f" and {len(gappy) - NAMED_COLUMNS} more" if len(gappy) > NAMED_COLUMNS else ""
    note = (f"{where}: column(s) {shown}{more} not taken as predictors: missing in more than half of the "
            f"rows; name them in 'predictors' to use them")
    return [c for c in columns if c not in gappy], [note]


def _ids_text(ids: pd.Series) -> str:
    """``; ids '1003', '1004' and 3 more``: the first :data:`NAMED_IDS` distinct ids."""
    distinct = list(dict.fromkeys(ids.astype(str)))
    shown = ", ".join(repr(i) for i in distinct[:NAMED_IDS])
    rest = len(distinct) - NAMED_IDS
    return f"; id(s) {shown}" + (f" and {rest} more" if rest > 0 else "")


def drop_incomplete(frame: pd.DataFrame, columns: list[str], where: str,
                    id_column: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The rows with every value of ``columns`` (forcing and predictors), renumbered from 0, and
    the note saying how many were left out for which columns (and, with ``id_column``, the first
    of their ids). DataError when fewer than MIN_COMPLETE_ROWS remain."""
    counts = missing_counts(frame, columns)
    if not counts:
        return frame, []
    complete = frame[list(dict.fromkeys(columns))].notna().all(axis=1).to_numpy()
    kept = int(complete.sum())
    if kept < MIN_COMPLETE_ROWS:
        raise DataError(f"{where}: only {kept} of {len(frame)} rows have every forcing and predictor value "
                        f"(missing {describe_counts(counts)}); fill the gaps or leave those columns out of the "
                        f"column map")
    note = (f"{where}: {len(frame) - kept} of {len(frame)} rows left out of training: missing "
            f"{describe_counts(counts)}{_ids_text(frame.loc[~complete, id_column]) if id_column else ''}")
    return frame[complete].reset_index(drop=True), [note]


__all__ = ["GAPPY_SHARE", "MIN_COMPLETE_ROWS", "describe_counts", "drop_incomplete",
           "gappy_predictors", "missing_counts"]
