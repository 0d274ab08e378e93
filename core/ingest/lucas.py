"""LUCAS files as the JRC publishes them, joined into one table that ``train --columns`` takes:
:func:`assemble_lucas` (``hybridlab data lucas``).

The soil file (LUCAS 2018 topsoil, or 2015) gives the rows: one per point. The other files join
on the point id, whatever its spelling (``POINTID``, ``POINT_ID``, ``Point_ID``): bulk density and
coarse fragments, texture, SOC fractions (MOC, POC), microbial biomass carbon and a covariate
stack. Where bulk density and coarse fragments exist, the report's SOC density is
OC [g kg-1] · BD [g cm-3] · (1 - CF) in kg m-3. Nothing is dropped without a count and a reason:
rows without an id, ids that appear twice (all their rows are left out of that file), ids of
another file that are not in the soil file, and values not taken as written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formatting import short_repr
from .tables import BELOW_DETECTION, Problems, find_column, numeric_column, read_survey_table

ID_SPELLINGS = ("POINTID", "POINT_ID", "Point_ID")
#: recognised columns per file: output name -> spellings (case, spaces, underscores ignored)
RECOGNISED = {
    "soil": {"oc": ("OC",)},
    "bulk_density": {"bd": ("BD 0-20", "BD0-20", "BD_0_20", "BD", "bulk_density"),
                     "coarse_fragments": ("CF 0-20", "CF", "Coarse fragments", "Coarse 0-20", "coarse_fragments")},
    "texture": {"clay": ("Clay",), "sand": ("Sand",), "silt": ("Silt",), "coarse": ("Coarse",)},
    "fractions": {"moc": ("MAOC", "MOC", "MAOM"), "poc": ("POC", "POM")},
    "mbc": {"mbc": ("MBC", "Cmic", "microbial_biomass_carbon")},
    "covariates": {},
}
#: the forcing of the SOC model, found among the covariates by these names
FORCING = {"temp": ("temp", "MAT", "temperature", "bio1"), "npp": ("npp", "NPP_mean"),
           "soil_mass": ("soil_mass",)}
UNITS = {"oc": "g kg-1", "n": "g kg-1", "p": "mg kg-1", "k": "mg kg-1", "caco3": "g kg-1", "ec": "mS m-1",
         "ph_h2o": "-", "ph_cacl2": "-", "ox_al": "g kg-1", "ox_fe": "g kg-1", "elev": "m", "th_lat": "degree north",
         "th_long": "degree east", "bd": "g cm-3", "coarse_fragments": "fraction (0-1)", "clay": "%", "sand": "%",
         "silt": "%", "coarse": "%", "moc": "g kg-1 (as in the fractions file)", "poc": "g kg-1 (as in the fractions file)",
         "mbc": "as in the MBC file", "soc_density": "kg m-3"}
#: columns that are never predictors (targets, ids, the stock derived from a target)
NOT_PREDICTORS = ("point_id", "oc", "moc", "poc", "mbc", "soc_density")


def snake(name: str) -> str:
    """``pH_H2O`` and ``pH(H2O)`` -> ``ph_h2o``; ``TH_LAT`` -> ``th_lat``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


@dataclass
class Assembled:
    """The joined table, its column map for ``train --columns``, and the report (Markdown lines)."""

    table: pd.DataFrame
    columns: dict
    report: list[str] = field(default_factory=list)


def _keyed(path: Path, role: str, policy: str, problems: Problems, notes: list[str]) -> pd.DataFrame:
    """One file: id column found and checked, recognised columns renamed, numbers parsed; rows
    without an id and ids that appear more than once are left out, with their count."""
    frame = read_survey_table(path)
    decimal_comma = frame.attrs.get("decimal_comma", False)
    id_column = find_column(frame, ID_SPELLINGS, path, "point id")
    ids = frame[id_column].astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
    missing = ids.isna() | (ids == "")
    duplicated = ids.duplicated(keep=False) & ~missing
    for rows, why in ((missing, "no point id"), (duplicated, "point id appears more than once")):
        if rows.any():
            shown = ", ".join(str(r + 2) for r in np.flatnonzero(rows.to_numpy())[:5])
            notes.append(f"{path.name}: {int(rows.sum())} row(s) left out: {why} (rows {shown}"
                         f"{', ...' if rows.sum() > 5 else ''})")
    keep = ~(missing | duplicated)
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
                                decimal_comma=decimal_comma, problems=problems, lines=lines)
        out[name] = (parsed if parsed is not None else frame[column].str.strip()).to_numpy()
    result = pd.DataFrame(out, index=ids.to_numpy())
    result.index.name = "point_id"
    return result


def _join(soil: pd.DataFrame, others: dict[str, tuple[Path, pd.DataFrame]], notes: list[str]) -> pd.DataFrame:
    table = soil
    for role, (path, frame) in others.items():
        unmatched = frame.index.difference(soil.index)
        if len(unmatched):
            notes.append(f"{path.name}: {len(unmatched)} point id(s) not among the soil file's points, left out (e.g. "
                         f"{', '.join(map(short_repr, list(unmatched[:5])))})")
        absent = soil.index.difference(frame.index)
        if len(absent):
            notes.append(f"{path.name}: {len(absent)} of {len(soil)} soil points have no row here (their "
                         f"{role.replace('_', ' ')} values are missing)")
        clash = [c for c in frame.columns if c in table.columns]
        if clash:
            raise DataError(f"{path}: column(s) {', '.join(map(short_repr, clash))} are in an earlier file too; "
                            f"rename them in one of the files")
        table = table.join(frame, how="left")
    return table


def _soc_density(table: pd.DataFrame, notes: list[str]) -> None:
    """soc_density = OC · BD · (1 - CF), kg m-3, where all three exist; CF read as % when above 1."""
    if not {"oc", "bd", "coarse_fragments"} <= set(table.columns):
        notes.append("SOC density not computed: it needs OC, bulk density and coarse fragments")
        return
    fragments = table["coarse_fragments"]
    if fragments.max(skipna=True) > 1:
        notes.append(f"coarse fragments read as percent (largest {fragments.max():g}) and divided by 100")
        table["coarse_fragments"] = fragments / 100
    table["soc_density"] = table["oc"] * table["bd"] * (1 - table["coarse_fragments"])
    notes.append(f"SOC density (OC · BD · (1 − CF), kg m-3) for {int(table['soc_density'].notna().sum())} of "
                 f"{len(table)} points")


def column_map(table: pd.DataFrame, covariates: list[str] | None) -> dict:
    """The mapping ``train --columns`` takes, with the units of every column it knows."""
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    targets = {name: column for name, column in (("soc", "oc"), ("moc", "moc"), ("poc", "poc"), ("mbc", "mbc"))
               if column in table}
    search = covariates if covariates is not None else numeric
    forcing = {}
    for name, spellings in FORCING.items():
        found = [c for c in search if snake(c) in {snake(s) for s in spellings}]
        if found:
            forcing[name] = found[0]
    taken = set(NOT_PREDICTORS) | set(forcing.values())
    pool = covariates if covariates is not None else numeric
    predictors = [c for c in pool if c in numeric and c not in taken]
    units = {c: UNITS.get(c, "as in the covariates file" if covariates and c in covariates else "as in the file")
             for c in ["point_id", *numeric]}
    return {"id": "point_id", "targets": targets, "forcing": forcing, "predictors": predictors, "units": units}


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
    frames = {role: (Path(path), _keyed(Path(path), role, below_detection, problems, notes))
              for role, path in files.items() if path is not None}
    soil = frames.pop("soil")[1]
    if "oc" not in soil.columns:
        raise DataError(f"{files['soil']}: no OC column (organic carbon, g kg-1)")
    table = _join(soil, frames, notes)
    _soc_density(table, notes)
    covariates = list(frames["covariates"][1].columns) if "covariates" in frames else None
    table = table.reset_index()
    columns = column_map(table, covariates)
    report = [f"{len(table)} points from {Path(files['soil']).name}", *notes,
              *[f"{kind}: {count} value(s)" for kind, count in sorted(problems.counts.items())], *problems.lines]
    if not columns["forcing"]:
        report.append("no forcing columns found (temp, npp) among the covariates: give them in the column map "
                      "before training the SOC model")
    return Assembled(table, columns, report)


__all__ = ["Assembled", "assemble_lucas", "column_map", "snake"]
