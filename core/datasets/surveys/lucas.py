"""LUCAS files as the JRC publishes them, joined into one table that ``train --columns`` takes:
:func:`assemble_lucas` (``hybridlab data lucas``).

The soil file (LUCAS 2018 topsoil, or 2015) gives the rows: one per point. The other files join
on the point id, whatever its spelling (``POINTID``, ``POINT_ID``, ``Point_ID``): bulk density and
coarse fragments, texture, SOC fractions (MOC, POC), microbial biomass carbon and a covariate
stack. Where bulk density and coarse fragments exist, the report's SOC density is
OC [g kg-1] · BD [g cm-3] · (1 - CF) in kg m-3 (CF: the bulk density file's CF 0-20, or LUCAS's
> 2 mm share ``Coarse (%)`` of the bulk density or texture file). Nothing is dropped without a
count and a reason: rows without an id, a row repeated exactly (kept once), ids that appear twice
with differing values (all their rows are left out of that file, and of the others), ids of
another file that are not in the soil file, and values not taken as written. The report names
the roles of the column map (:mod:`.lucas_columns`) and the points ``train`` will leave out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets.registry import DataSourceSpec
from core.errors import DataError
from core.formatting import short_repr
from core.datasets.surveys.lucas_columns import column_map, one_hot_land_cover, role_lines, snake
from core.datasets.surveys.names import check_collisions, check_not_targets
from core.datasets.surveys.numbers import decimal_mark
from core.datasets.surveys.ranges import RANGES, check_range, coarse_fragments
from core.datasets.surveys.reading import ReadOptions, read_survey_table
from core.datasets.surveys.tables import BELOW_DETECTION, Problems, find_column, numeric_column

ID_SPELLINGS = ("POINTID", "POINT_ID", "Point_ID")
#: LUCAS's names for coarse fragments (the > 2 mm share)
COARSE = ("CF 0-20", "CF", "Coarse fragments", "Coarse 0-20", "coarse_fragments", "Coarse (%)", "Coarse")
#: recognised columns per file: output name -> spellings (case, spaces, underscores ignored)
RECOGNISED = {
    "soil": {"oc": ("OC",)},
    "bulk_density": {"bd": ("BD 0-20", "BD0-20", "BD_0_20", "BD", "bulk_density"), "coarse_fragments": COARSE},
    "texture": {"clay": ("Clay",), "sand": ("Sand",), "silt": ("Silt",), "coarse": ("Coarse (%)", "Coarse")},
    "fractions": {"moc": ("MAOC", "MOC", "MAOM"), "poc": ("POC", "POM")},
    "mbc": {"mbc": ("MBC", "Cmic", "microbial_biomass_carbon")},
    "covariates": {},
}


@dataclass
class Assembled:
    """The joined table, its column map for ``train --columns``, and the report (Markdown lines)."""

    table: pd.DataFrame
    columns: dict
    report: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LucasOptions:
    """How the files are read and taken: values below detection (nan, half, limit), the unit of
    coarse fragments (auto, fraction, percent), and the reading options (encoding, decimal mark,
    limits)."""

    below_detection: str = "nan"
    coarse_fragments: str = "auto"
    read: ReadOptions = ReadOptions()


def _rows_shown(rows: pd.Series) -> str:
    lines = rows.index[rows.to_numpy()]
    shown = ", ".join(str(r) for r in lines[:5])
    return f"rows {shown}{', ...' if len(lines) > 5 else ''}"


def _id_problems(path: Path, frame: pd.DataFrame, ids: pd.Series, notes: list[str]) -> tuple[pd.Series, set]:
    """The rows kept (those with an id; a row repeated exactly, once) and the ids left out
    because their rows differ."""
    missing = (ids.isna() | (ids == "")).fillna(True).astype(bool)
    repeated = frame.assign(_point_id=ids).duplicated(keep="first") & ~missing
    rest = ~missing & ~repeated
    duplicated = pd.Series(False, index=ids.index)
    duplicated[rest] = ids[rest].duplicated(keep=False)
    conflicting = set(ids[duplicated])
    repeated_kept = repeated & ~ids.isin(conflicting)
    if repeated_kept.any():
        notes.append(f"{path.name}: {int(repeated_kept.sum())} row(s) repeat an earlier row exactly (point id(s) "
                     f"{', '.join(map(short_repr, ids[repeated_kept].unique()[:5]))}; {_rows_shown(repeated_kept)}); "
                     f"kept once")
    for rows, why in ((missing, "no point id"), (duplicated, "point id appears more than once")):
        if rows.any():
            notes.append(f"{path.name}: {int(rows.sum())} row(s) left out: {why} ({_rows_shown(rows)})")
    return ~(missing | duplicated | repeated), conflicting


def _table_names(frame: pd.DataFrame, role: str, path: Path, unnamed: set, notes: list[str]) -> dict[str, str]:
    """Each column's name in the joined table (recognised names renamed, the others in
    snake_case, covariates as they are); an empty column without a name is left out, one with
    values refused."""
    renamed = {}
    for name, spellings in RECOGNISED[role].items():
        column = find_column(frame, spellings, path, name, required=False)
        if column is not None:
            renamed[column] = name
    names = {}
    for column in frame.columns:
        if column in unnamed:
            if frame[column].notna().any():
                raise DataError(f"{path.name}: {column} has no name in the header but holds values; name it")
            notes.append(f"{path.name}: {column} has no name and no values; left out")
            continue
        names[column] = renamed.get(column, snake(column) if role != "covariates" else column)
    if role == "covariates":
        check_not_targets(names, path)
    return names


def _physical(parsed: pd.Series, column: str, name: str, path: Path, options: LucasOptions, problems: Problems,
              notes: list[str]) -> pd.Series:
    if name == "coarse_fragments":
        return coarse_fragments(parsed, name=path.name, column=column, unit=options.coarse_fragments,
                                problems=problems, notes=notes)
    if name in RANGES:
        return check_range(parsed, RANGES[name], name=path.name, column=column, table_name=name, problems=problems)
    return parsed


def _keyed(path: Path, role: str, options: LucasOptions, problems: Problems, notes: list[str],
           taken: dict[str, str]) -> tuple[pd.DataFrame, set]:
    """One file: id column found and checked, columns named and checked against the others'
    (``taken``), numbers parsed and checked; rows without an id and ids that appear more than
    once with differing values are left out (their ids returned), a row repeated exactly is kept
    once, each with its count."""
    frame = read_survey_table(path, options.read)
    separator, unnamed = frame.attrs.get("separator"), set(frame.attrs.get("unnamed", ()))
    id_column = find_column(frame, ID_SPELLINGS, path, "point id")
    ids = frame[id_column].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    keep, conflicting = _id_problems(path, frame.drop(columns=[id_column]), ids, notes)
    frame, ids = frame[keep.to_numpy()].drop(columns=[id_column]), ids[keep]
    names = _table_names(frame, role, path, unnamed, notes)
    check_collisions(names, path, taken)
    mark = decimal_mark(frame[list(names)], path.name, separator, options.read.decimal_mark)
    out = {}
    for column, name in names.items():
        parsed = numeric_column(frame[column], name=path.name, column=column, policy=options.below_detection,
                                mark=mark, problems=problems, notes=notes, table_name=name,
                                numeric=role != "covariates" and (name in RANGES or name == "coarse_fragments"))
        if parsed is not None and role != "covariates":
            parsed = _physical(parsed, column, name, path, options, problems, notes)
        text = frame[column].str.strip() if pd.api.types.is_string_dtype(frame[column]) else frame[column]
        out[name] = (parsed if parsed is not None else text).to_numpy()
    result = pd.DataFrame(out, index=ids.to_numpy())
    result.index.name = "point_id"
    return result, conflicting


def _join(soil: pd.DataFrame, others: dict[str, tuple[Path, pd.DataFrame, set]], soil_conflicts: set,
          notes: list[str]) -> pd.DataFrame:
    """The soil rows with every other file's columns; a point left out of the soil file for
    differing rows is left out of the others too, and said so, not counted as unmatched."""
    table = soil
    for role, (path, frame, conflicts) in others.items():
        unmatched = frame.index.difference(soil.index)
        with_soil = unmatched.intersection(pd.Index(sorted(soil_conflicts), dtype=unmatched.dtype))
        unmatched = unmatched.difference(with_soil)
        if len(with_soil):
            notes.append(f"{path.name}: {len(with_soil)} point id(s) left out with the soil file's rows that differ "
                         f"({', '.join(map(short_repr, list(with_soil[:5])))})")
        if len(unmatched):
            notes.append(f"{path.name}: {len(unmatched)} point id(s) not among the soil file's points, left out (e.g. "
                         f"{', '.join(map(short_repr, list(unmatched[:5])))})")
        absent = soil.index.difference(frame.index)
        if len(absent):
            own = len(absent.intersection(pd.Index(sorted(conflicts), dtype=absent.dtype)))
            notes.append(f"{path.name}: {len(absent)} of {len(soil)} soil points have no row here (their "
                         f"{role.replace('_', ' ')} values are missing"
                         + (f"; {own} of them left out here for rows that differ" if own else "") + ")")
        table = table.join(frame, how="left")
    return table


def _fragments(table: pd.DataFrame, notes: list[str]) -> pd.Series:
    """Coarse fragments as a fraction: the bulk density file's (its unit decided when read, see
    :mod:`.ranges`), else the texture file's Coarse (%)."""
    if "coarse_fragments" in table:
        return table["coarse_fragments"]
    notes.append("coarse fragments from the texture file's Coarse (%, the > 2 mm share), divided by 100")
    return table["coarse"] / 100


def _soc_density(table: pd.DataFrame, notes: list[str]) -> None:
    """soc_density = OC · BD · (1 - CF), kg m-3, where all three exist; else the one it lacked."""
    lacking = [what for what, present in (
        ("bulk density (BD 0-20 in --bulk-density)", "bd" in table),
        ("coarse fragments (CF 0-20, Coarse (%) or Coarse in --bulk-density or --texture)",
         "coarse_fragments" in table or "coarse" in table)) if not present]
    if lacking:
        notes.append(f"SOC density not computed: no {' and no '.join(lacking)}")
        return
    table["soc_density"] = table["oc"] * table["bd"] * (1 - _fragments(table, notes))
    notes.append(f"SOC density (OC · BD · (1 − CF), kg m-3) for {int(table['soc_density'].notna().sum())} of "
                 f"{len(table)} points")


def assemble_lucas(files: dict[str, str | Path], below_detection: str = "nan",
                   options: LucasOptions | None = None) -> Assembled:
    """Read and join LUCAS files.

    Parameters
    ----------
    files : dict
        Role -> path: ``soil`` (required), ``bulk_density``, ``texture``, ``fractions``, ``mbc``,
        ``covariates``.
    below_detection : str
        How values below a detection limit are taken: ``nan``, ``half`` (half the limit) or
        ``limit``; a limit without a number is missing whatever the policy.
    options : LucasOptions, optional
        Unit of coarse fragments, encoding, decimal mark and size limits (its below_detection
        is replaced by the argument).

    Returns
    -------
    Assembled
        The joined table, its column map and the report's lines.
    """
    if below_detection not in BELOW_DETECTION:
        raise DataError(f"--below-detection must be one of {', '.join(BELOW_DETECTION)}, got {short_repr(below_detection)}")
    if "soil" not in files:
        raise DataError("data lucas: --soil is required (the LUCAS topsoil file gives the points)")
    options = replace(options or LucasOptions(), below_detection=below_detection)
    options.read.check()
    problems, notes = Problems(), []
    taken = {"point_id": "the point id", "soc_density": "the SOC density data lucas computes"}
    roles = ["soil", *[role for role in files if role != "soil"]]
    frames = {role: (Path(files[role]), *_keyed(Path(files[role]), role, options, problems, notes, taken))
              for role in roles if files[role] is not None}
    _, soil, soil_conflicts = frames.pop("soil")
    if "oc" not in soil.columns:
        raise DataError(f"{files['soil']}: no OC column (organic carbon, g kg-1)")
    table = _join(soil, frames, soil_conflicts, notes)
    _soc_density(table, notes)
    covariates = list(frames["covariates"][1].columns) if "covariates" in frames else None
    table = table.reset_index()
    encoded = one_hot_land_cover(table, notes)
    columns = column_map(table, covariates, encoded, notes)
    report = [f"{len(table)} points from {Path(files['soil']).name}", *notes, *problems.summary(), *problems.lines,
              *role_lines(table, columns)]
    if not columns["forcing"]:
        report.append("no forcing columns found (temp, npp) among the covariates: give them in the column map "
                      "before training the SOC model")
    return Assembled(table, columns, report)


#: ``hybridlab data lucas``: the survey in the data source registry
DATA = DataSourceSpec(name="lucas", kind="survey", description=__doc__, load=assemble_lucas)


__all__ = ["Assembled", "LucasOptions", "assemble_lucas", "column_map", "snake"]
