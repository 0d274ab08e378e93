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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formatting import short_repr
from .lucas_columns import column_map, one_hot_land_cover, role_lines, snake
from .tables import BELOW_DETECTION, Problems, find_column, numeric_column, read_survey_table

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


def _rows_shown(rows: pd.Series) -> str:
    shown = ", ".join(str(r + 2) for r in np.flatnonzero(rows.to_numpy())[:5])
    return f"rows {shown}{', ...' if rows.sum() > 5 else ''}"


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


def _keyed(path: Path, role: str, policy: str, problems: Problems, notes: list[str]) -> tuple[pd.DataFrame, set]:
    """One file: id column found and checked, recognised columns renamed, numbers parsed; rows
    without an id and ids that appear more than once with differing values are left out (their
    ids returned), a row repeated exactly is kept once, each with its count."""
    frame = read_survey_table(path)
    decimal_comma = frame.attrs.get("decimal_comma", False)
    id_column = find_column(frame, ID_SPELLINGS, path, "point id")
    ids = frame[id_column].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    keep, conflicting = _id_problems(path, frame.drop(columns=[id_column]), ids, notes)
    lines = np.flatnonzero(keep.to_numpy()) + 2  # the file's line of each row kept (line 1: the header)
    frame, ids = frame[keep.to_numpy()].drop(columns=[id_column]), ids[keep]
    renamed = {}
    for name, spellings in RECOGNISED[role].items():
        column = find_column(frame, spellings, path, name, required=False)
        if column is not None:
            renamed[column] = name
    out = {}
    for column in frame.columns:
        name = renamed.get(column, snake(column) if role != "covariates" else column)
        parsed = numeric_column(frame[column], path=path, column=column, policy=policy,
                                decimal_comma=decimal_comma, problems=problems, lines=lines, name=name)
        out[name] = (parsed if parsed is not None else frame[column].str.strip()).to_numpy()
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
        clash = [c for c in frame.columns if c in table.columns]
        if clash:
            raise DataError(f"{path}: column(s) {', '.join(map(short_repr, clash))} are in an earlier file too; "
                            f"rename them in one of the files")
        table = table.join(frame, how="left")
    return table


def _fragments(table: pd.DataFrame, notes: list[str]) -> pd.Series:
    """Coarse fragments as a fraction: the bulk density file's (read as percent when above 1),
    else the texture file's Coarse (%)."""
    if "coarse_fragments" in table:
        fragments = table["coarse_fragments"]
        if fragments.max(skipna=True) > 1:
            notes.append(f"coarse fragments read as percent (largest {fragments.max():g}) and divided by 100")
            table["coarse_fragments"] = fragments / 100
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


def assemble_lucas(files: dict[str, str | Path], below_detection: str = "nan") -> Assembled:
    """Read and join LUCAS files.

    Parameters
    ----------
    files : dict
        Role -> path: ``soil`` (required), ``bulk_density``, ``texture``, ``fractions``, ``mbc``,
        ``covariates``.
    below_detection : str
        How values below a detection limit are taken: ``nan``, ``half`` (half the limit) or
        ``limit``; a limit without a number is missing whatever the policy.
    """
    if below_detection not in BELOW_DETECTION:
        raise DataError(f"--below-detection must be one of {', '.join(BELOW_DETECTION)}, got {short_repr(below_detection)}")
    if "soil" not in files:
        raise DataError("data lucas: --soil is required (the LUCAS topsoil file gives the points)")
    problems, notes = Problems(), []
    frames = {role: (Path(path), *_keyed(Path(path), role, below_detection, problems, notes))
              for role, path in files.items() if path is not None}
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


__all__ = ["Assembled", "assemble_lucas", "column_map", "snake"]
