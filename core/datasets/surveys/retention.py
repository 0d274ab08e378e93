"""Measured retention curves made into the table the retention model (``swrc``) trains on:
:func:`assemble_retention` (``hybridlab data retention --points FILE [--samples FILE]``).

One row per measured point: ``sample_id`` (the groups of splits), ``h_cm`` (suction, cm of
water: the forcing h), ``theta`` (m3 m-3: the target) and the sample's properties, clay, silt,
sand (%), ``oc`` (weight %), ``bd`` (g cm-3), ``depth_cm``. Points are read in long or wide layout
and their units converted (:mod:`.retention_points`); properties come from ``--samples`` or
from the points file (:mod:`.retention_properties`). Points left out are counted by reason:
``--where`` filters, no sample id, no suction or water content (or one outside its range).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.datasets.incomplete import describe_counts, gappy_predictors, missing_counts
from core.datasets.registry import DataSourceSpec
from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.lucas import Assembled
from core.datasets.surveys.numbers import decimal_mark
from core.datasets.surveys.ranges import check_range
from core.datasets.surveys.reading import ReadOptions, read_survey_table
from core.datasets.surveys.retention_points import (SAMPLE_SPELLINGS, first_column, head_column, head_unit, theta_column, to_cm,
                               to_fraction, wide_columns)
from core.datasets.surveys.retention_properties import per_sample, row_properties, texture_sums
from core.datasets.surveys.retention_samples import OM_FACTOR, size_columns
from core.datasets.surveys.tables import Problems, numeric_column

PREDICTORS = ("clay", "silt", "sand", "oc", "bd")
UNITS = {"sample_id": "-", "h_cm": "cm of water (suction)", "theta": "m3 m-3", "clay": "% (< 2 um)",
         "silt": "% (2-50 um)", "sand": "% (50-2000 um)", "oc": "weight %", "om": "% by mass", "bd": "g cm-3",
         "depth_cm": "cm (mid depth)"}


@dataclass(frozen=True)
class RetentionOptions:
    """How the retention files are read.

    Parameters
    ----------
    layout : str
        ``auto``, ``long`` or ``wide``.
    head_unit : str, optional
        ``cm``, ``m``, ``hPa``, ``kPa`` or ``pF`` where the column names do not say it.
    theta_unit : str
        ``auto``, ``fraction`` (m3 m-3) or ``percent``.
    om_factor : float
        Organic matter / organic carbon (default 1.724).
    texture : str
        ``auto``, ``fractions`` or ``curve``.
    where : tuple of str
        ``COLUMN=VALUE`` filters on the points file (e.g. ``table=lab_drying_h-t``).
    """

    layout: str = "auto"
    head_unit: str | None = None
    theta_unit: str = "auto"
    om_factor: float = OM_FACTOR
    texture: str = "auto"
    where: tuple[str, ...] = ()


def _filtered(frame: pd.DataFrame, where: tuple, name: str, counts: list) -> pd.DataFrame:
    for condition in where:
        column, sep, value = condition.partition("=")
        if not sep or column.strip() not in frame.columns:
            raise DataError(f"--where {short_repr(condition)}: give COLUMN=VALUE with a column of {name} (columns: "
                            f"{', '.join(map(str, list(frame.columns)[:12]))})")
        keep = (frame[column.strip()].astype("string").str.strip() == value.strip()).fillna(False).to_numpy(bool)
        counts.append((f"not {column.strip()} = {value.strip()} (--where)", int((~keep).sum())))
        frame = frame[keep]
    return frame


def _sample_ids(frame: pd.DataFrame, name: str) -> tuple[str, pd.Series]:
    column = first_column(frame.columns, SAMPLE_SPELLINGS)
    if column is None:
        raise DataError(f"{name}: no sample id column (looked for {', '.join(SAMPLE_SPELLINGS[:6])}); columns are "
                        f"{', '.join(map(short_repr, list(frame.columns)[:12]))}")
    ids = frame[column].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True).replace("", pd.NA)
    return column, ids


def _long(frame: pd.DataFrame, ids: pd.Series, name: str, mark: str, options: RetentionOptions,
          problems: Problems, notes: list[str]) -> tuple[pd.DataFrame, set]:
    head, named_unit = head_column(frame.columns)
    theta, theta_named = theta_column(frame.columns)
    unit = head_unit({named_unit}, options.head_unit, name)
    h = numeric_column(frame[head], name=name, column=head, policy="nan", mark=mark, problems=problems, notes=notes,
                       table_name="h_cm", numeric=True)
    w = numeric_column(frame[theta], name=name, column=theta, policy="nan", mark=mark, problems=problems,
                       notes=notes, table_name="theta", numeric=True)
    notes.append(f"{name}: long layout, suction {head}, water content {theta}")
    points = pd.DataFrame({"sample_id": ids, "h_cm": to_cm(h, unit, name, head, notes),
                           "theta": to_fraction(w, theta_named, options.theta_unit, name, theta, notes)})
    return points, {head, theta}


def _wide(frame: pd.DataFrame, ids: pd.Series, name: str, mark: str, options: RetentionOptions,
          problems: Problems, notes: list[str]) -> tuple[pd.DataFrame, set]:
    sizes = size_columns(frame.columns)
    heads = {c: v for c, v in wide_columns(frame.columns).items() if c not in sizes}
    if len(heads) < 2:
        raise DataError(f"{name}: neither long (a suction and a water content column) nor wide (columns named by a "
                        f"suction, e.g. theta_10, 33kPa, pF2.5); columns are "
                        f"{', '.join(map(short_repr, list(frame.columns)[:12]))}")
    unit = head_unit({u for _, u in heads.values()}, options.head_unit, name)
    values = pd.DataFrame({c: numeric_column(frame[c], name=name, column=c, policy="nan", mark=mark,
                                             problems=problems, notes=notes, table_name="theta", numeric=True)
                           for c in heads})
    notes.append(f"{name}: wide layout, {len(heads)} suction columns ({', '.join(map(str, list(heads)[:8]))})")
    long = values.assign(sample_id=ids).melt(id_vars="sample_id", var_name="column", value_name="theta",
                                             ignore_index=False)
    empty = int(long["theta"].isna().sum())
    if empty:
        notes.append(f"{name}: {empty} empty cell(s) in the suction columns (no measurement there), not points")
    long = long[long["theta"].notna()]
    suction = pd.Series([heads[c][0] for c in long["column"]], index=long.index, dtype=float)
    long["h_cm"] = to_cm(suction, unit, name, "(column names)", notes)
    long["theta"] = to_fraction(long["theta"], None, options.theta_unit, name, "(suction columns)", notes)
    return long.sort_index(kind="mergesort")[["sample_id", "h_cm", "theta"]], set(heads)


def _points(path: Path, options: RetentionOptions, read: ReadOptions, problems: Problems, notes: list[str],
            counts: list) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, str, set]:
    """(points, the filtered points frame, its ids, its decimal mark, the columns used for points)."""
    frame = _filtered(read_survey_table(path, read), options.where, path.name, counts)
    id_column, ids = _sample_ids(frame, path.name)
    mark = decimal_mark(frame, path.name, frame.attrs.get("separator"), read.decimal_mark)
    layout = options.layout
    if layout not in ("auto", "long", "wide"):
        raise DataError(f"--layout must be auto, long or wide, got {short_repr(layout)}")
    if layout == "auto":
        layout = "long" if head_column(frame.columns)[0] and theta_column(frame.columns)[0] else "wide"
    reader = _long if layout == "long" else _wide
    if layout == "long" and not (head_column(frame.columns)[0] and theta_column(frame.columns)[0]):
        raise DataError(f"{path.name}: --layout long needs a suction column (h, head, pressure_head, suction, pF) "
                        f"and a water content column (theta, water_content, vwc)")
    points, used = reader(frame, ids, path.name, mark, options, problems, notes)
    points["theta"] = check_range(points["theta"], (0.0, 1.0, "m3 m-3"), name=path.name, column="theta",
                                  table_name="theta", problems=problems)
    return points, frame, ids, mark, used | {id_column}


def _drop_points(points: pd.DataFrame, counts: list) -> pd.DataFrame:
    for reason, column in (("no sample id", "sample_id"), ("no suction", "h_cm"), ("no water content", "theta")):
        rejected = points[column].isna().to_numpy(dtype=bool)
        counts.append((reason, int(rejected.sum())))
        points = points[~rejected]
    return points


def _properties(points_frame, ids, mark, used, samples, options, read, problems, notes, name) -> pd.DataFrame:
    if samples is None:
        rows = row_properties(points_frame, name, mark, used, options.texture, options.om_factor, problems, notes)
        return per_sample(rows, ids, name, repeated=True)
    path = Path(samples)
    frame = read_survey_table(path, read)
    id_column, sample_ids = _sample_ids(frame, path.name)
    keep = sample_ids.notna().to_numpy()
    if (~keep).any():
        notes.append(f"{path.name}: {int((~keep).sum())} row(s) without a sample id, not used")
    frame, sample_ids = frame[keep], sample_ids[keep]
    mark = decimal_mark(frame, path.name, frame.attrs.get("separator"), read.decimal_mark)
    rows = row_properties(frame, path.name, mark, {id_column}, options.texture, options.om_factor, problems, notes)
    return per_sample(rows, sample_ids, path.name, repeated=False)


def _map(table: pd.DataFrame, notes: list[str]) -> dict:
    present = [c for c in PREDICTORS if c in table and table[c].notna().any()]
    predictors, gappy = gappy_predictors(table, present, "column map")
    notes.extend(gappy)
    return {"id": "sample_id", "targets": {"theta": "theta"}, "forcing": {"h": "h_cm"}, "predictors": predictors,
            "units": {c: UNITS[c] for c in table.columns if c in UNITS}}


def assemble_retention(points: str | Path, samples: str | Path | None = None,
                       options: RetentionOptions | None = None, read: ReadOptions | None = None) -> Assembled:
    """Read retention points (and sample properties) into one long table.

    Parameters
    ----------
    points : str or Path
        theta(h) points, long or wide (CSV, text or Parquet).
    samples : str or Path, optional
        One row per sample: texture or a particle-size curve, OM or OC, BD, depth.
    options : RetentionOptions, optional
        Layout, units, OM factor, texture source and filters.
    read : ReadOptions, optional
        Encoding, decimal mark and size limits.

    Returns
    -------
    Assembled
        The table (one row per point), its column map and the report's lines.
    """
    options, read = options or RetentionOptions(), (read or ReadOptions()).check()
    problems, notes, counts = Problems(), [], []
    path = Path(points)
    table, frame, ids, mark, used = _points(path, options, read, problems, notes, counts)
    table = _drop_points(table, counts)
    if table.empty:
        raise DataError(f"{path.name}: no point with a sample id, a suction and a water content")
    props = _properties(frame, ids, mark, used, samples, options, read, problems, notes, path.name)
    table = table.join(props, on="sample_id").reset_index(drop=True)
    lacking = sorted(set(table["sample_id"]) - set(props.index))
    if lacking:
        notes.append(f"{len(lacking)} sample(s) of the points have no row in the samples file (e.g. "
                     f"{', '.join(map(short_repr, lacking[:5]))}): their properties are missing")
    columns = _map(table, notes)
    return Assembled(table, columns, _report(path, table, props, columns, counts, notes, problems))


def _report(path: Path, table: pd.DataFrame, props: pd.DataFrame, columns: dict, counts: list, notes: list[str],
            problems: Problems) -> list[str]:
    per = table.groupby("sample_id").size()
    left = "; ".join(f"{reason}: {n}" for reason, n in counts)
    lines = [f"{len(table)} points of {len(per)} samples from {path.name}", f"points left out, in this order: {left}",
             *notes, *texture_sums(props.loc[props.index.intersection(per.index)]),
             f"id: sample_id (splits keep a sample's points together); target theta (m3 m-3); forcing h = h_cm "
             f"(cm, {table['h_cm'].min():.3g} to {table['h_cm'].max():.3g})",
             f"predictors ({len(columns['predictors'])}): " + ", ".join(f"{c} ({UNITS[c]})" for c in columns["predictors"])]
    if "bd" in columns["predictors"]:
        lines.append("bd is a predictor: for the run without bulk density drop it from the map's predictors")
    few = int((per < 3).sum())
    if few:
        lines.append(f"{few} sample(s) with fewer than 3 points (a curve is poorly known from them)")
    counts_missing = missing_counts(table, columns["predictors"])
    if counts_missing:
        incomplete = table.loc[table[list(counts_missing)].isna().any(axis=1), "sample_id"].nunique()
        lines.append(f"{incomplete} of {len(per)} samples lack a predictor value ({describe_counts(counts_missing)} "
                     f"points); train leaves their points out")
    return [*lines, *problems.summary(), *problems.lines]


#: ``hybridlab data retention``: the survey in the data source registry
DATA = DataSourceSpec(name="retention", kind="survey", description=__doc__, load=assemble_retention)


__all__ = ["RetentionOptions", "assemble_retention"]
