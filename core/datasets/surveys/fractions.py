"""SOC-fraction studies (bulk SOC, mineral-associated MOC, particulate POC with texture and
climate, one row per sample) made into the SOC model's table: :func:`assemble_fractions`
(``hybridlab data fractions FILE --out TABLE``).

Columns are found by name in any case (``MAT``/``MAT_C``, ``MAP``/``MAP_mm``, ``SOC``/``Bulk.C``,
``MOC``/``MAOC``/``SiltClayC``, ``POC``/``POM_C``, silt+clay or clay and silt, top and bottom
depth, bulk density, NPP, mineral type, vegetation). Carbon is converted to g C kg-1 from the
unit its name or ``--carbon-unit`` states (refused where neither does); NPP, soil mass and the
layer's share of the litter input follow :mod:`.fractions_forcing`. Rows left out are counted.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets.incomplete import gappy_predictors
from core.datasets.registry import DataSourceSpec
from core.datasets.surveys.fractions_columns import (CARBON, carbon_unit, find, id_column_values, mineral_type,
                                                     numbers, vegetation_columns)
from core.datasets.surveys.fractions_forcing import (CARBON_FRACTION, DEFAULT_BD, ROOT_BETA, layer_input_share,
                                                     layer_soil_mass, miami_npp)
from core.datasets.surveys.lucas import Assembled
from core.datasets.surveys.numbers import decimal_mark
from core.datasets.surveys.reading import ReadOptions, read_survey_table
from core.datasets.surveys.tables import Problems
from core.errors import DataError
from core.formatting import short_repr

UNITS = {"site_id": "-", "temp": "degC (mean annual air temperature)", "map_mm": "mm yr-1",
         "npp": "g C m-2 yr-1 (input of the sampled layer, scaled to 0-20 cm)", "soil_mass": "kg soil m-2 (the layer)",
         "silt_clay": "% (< 50 um)", "lm": "1: low-activity 1:1 clays, 0: high-activity 2:1", "top_cm": "cm",
         "bottom_cm": "cm", "depth_cm": "cm (mid depth)", "soc": "g C kg-1", "moc": "g C kg-1", "poc": "g C kg-1",
         "bd": "g cm-3", "lat": "degree", "lon": "degree"}
#: land uses whose soils are rarely at steady state (tilled, recently converted or grazed)
MANAGED = ("cropland", "fallow", "pasture", "arable", "cultivated", "agriculture")
#: the range a median carbon content in g C kg-1 must fall in for its unit to be believed
PLAUSIBLE_MEDIAN = (1.0, 300.0)


@dataclass(frozen=True)
class FractionsOptions:
    """How a fraction table is read.

    Parameters
    ----------
    carbon_unit : str
        ``auto`` (from the column names), ``g/kg``, ``mg/g``, ``percent`` or ``mg/kg``.
    carbon_fraction : float
        g C per g dry matter for the Miami NPP (1 keeps dry matter).
    root_beta : float
        Root-profile parameter for the layer's share of the input.
    bulk_density : float
        g cm-3 where a row has none.
    depth_rule : str
        ``layer``: soil mass and input of the sampled layer; ``topsoil``: every row as 0-20 cm.
    drop_vegetation : tuple of str
        Vegetation or land-use classes left out (e.g. ``Cropland``).
    id_columns : tuple of str
        Columns whose values together name a site (default: a site column, else lat and lon).
    """

    carbon_unit: str = "auto"
    carbon_fraction: float = CARBON_FRACTION
    root_beta: float = ROOT_BETA
    bulk_density: float = DEFAULT_BD
    depth_rule: str = "layer"
    drop_vegetation: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()

    def check(self) -> "FractionsOptions":
        for flag, value, low, high in (("--carbon-fraction", self.carbon_fraction, 0.3, 1.0),
                                       ("--root-beta", self.root_beta, 0.8, 0.999),
                                       ("--default-bd", self.bulk_density, 0.05, 2.65)):
            if not isinstance(value, (int, float)) or not low <= value <= high:
                raise DataError(f"{flag} must be a number from {low:g} to {high:g}, got {short_repr(value)}")
        if self.depth_rule not in ("layer", "topsoil"):
            raise DataError(f"--depth-rule must be layer or topsoil, got {short_repr(self.depth_rule)}")
        return self


def _carbon(frame, name, mark, options, problems, notes) -> dict[str, pd.Series]:
    """soc, moc, poc in g C kg-1 (those the file has; MOC or SOC required)."""
    out = {}
    for target, spellings in CARBON.items():
        column = find(frame, spellings, name, target.upper())
        if column is None:
            continue
        factor, said = carbon_unit(column, options.carbon_unit, name)
        values = numbers(frame, column, name, mark, problems, notes, target) * factor
        median = float(values.median()) if values.notna().any() else np.nan
        if np.isfinite(median) and not PLAUSIBLE_MEDIAN[0] <= median <= PLAUSIBLE_MEDIAN[1]:
            raise DataError(f"{name}: column {column}: median {median:.3g} g C kg-1 after taking it as {said} is not a "
                            f"mineral soil's carbon content; give its unit with --carbon-unit")
        notes.append(f"{name}: {target} from column {column} ({said}" + (f", times {factor:g})" if factor != 1 else ")"))
        out[target] = values.mask(values < 0)
    if "moc" not in out and "soc" not in out:
        raise DataError(f"{name}: no MOC or SOC column (looked for {', '.join(CARBON['moc'][:4])}, "
                        f"{', '.join(CARBON['soc'][:4])}); columns are {', '.join(map(short_repr, frame.columns[:12]))}")
    return out


def _climate_texture(frame, name, mark, problems, notes) -> dict[str, pd.Series]:
    col = lambda what, spellings, required=True: find(frame, spellings, name, what, required)  # noqa: E731
    out = {"temp": numbers(frame, col("mean annual temperature (MAT)", ("mat", "temp", "temperature", "tmean")), name, mark,
                           problems, notes, "temp"),
           "map_mm": numbers(frame, col("mean annual precipitation (MAP)", ("map", "precipitation", "prec", "ppt")), name,
                             mark, problems, notes, "map_mm")}
    both = col("silt+clay", ("silt_clay", "siltclay", "clay_silt", "siltclaypercent", "fines"), False)
    if both is not None:
        out["silt_clay"] = numbers(frame, both, name, mark, problems, notes, "silt_clay")
    elif (clay := col("clay", ("clay",), False)) and (silt := col("silt", ("silt",), False)):
        out["silt_clay"] = numbers(frame, clay, name, mark, problems, notes, "clay") + numbers(
            frame, silt, name, mark, problems, notes, "silt")
        notes.append(f"{name}: silt_clay = {clay} + {silt}")
    else:
        notes.append(f"{name}: no silt+clay (or clay and silt) column: texture is not a predictor")
    if "silt_clay" in out:
        out["silt_clay"] = out["silt_clay"].mask((out["silt_clay"] < 0) | (out["silt_clay"] > 100))
    for key, spellings in (("top_cm", ("top_depth", "top", "upper_depth", "depth_top", "upper")),
                           ("bottom_cm", ("bottom_depth", "bottom", "lower_depth", "depth_bottom", "lower")),
                           ("bd", ("bd", "bulk_density", "bulkdensity")), ("npp", ("npp",)),
                           ("lat", ("lat", "latitude")), ("lon", ("lon", "long", "longitude"))):
        column = col(key, spellings, False)
        if column is not None:
            out[key] = numbers(frame, column, name, mark, problems, notes, key)
    return out


def _forcing(v: dict, options: FractionsOptions, name: str, notes: list[str]) -> None:
    """npp (g C m-2 yr-1, the layer's input scaled to 0-20 cm) and soil_mass (kg m-2) into ``v``."""
    if "npp" in v:
        notes.append(f"{name}: npp from the file's column, taken as g C m-2 yr-1")
    else:
        v["npp"] = miami_npp(v["temp"], v["map_mm"], options.carbon_fraction)
        notes.append(f"npp from the Miami model (Lieth 1975) of temp and map_mm, in g dry matter m-2 yr-1 times "
                     f"{options.carbon_fraction:g} g C per g (--carbon-fraction)")
    if "top_cm" in v and "bottom_cm" in v:
        bad = (v["bottom_cm"] <= v["top_cm"]) | (v["top_cm"] < 0)
        if bad.any():
            notes.append(f"{name}: {int(bad.sum())} row(s) whose bottom depth is not below the top (lines "
                         f"{', '.join(map(str, bad.index[bad.to_numpy()][:5]))}): depth taken as missing")
        v["top_cm"], v["bottom_cm"] = v["top_cm"].mask(bad), v["bottom_cm"].mask(bad)
        v["depth_cm"] = (v["top_cm"] + v["bottom_cm"]) / 2
    if options.depth_rule == "topsoil" or "depth_cm" not in v:
        v["soil_mass"] = pd.Series(10.0 * 20 * options.bulk_density, index=v["temp"].index)
        notes.append(f"every row taken as 0-20 cm at {options.bulk_density:g} g cm-3 (soil_mass "
                     f"{v['soil_mass'].iloc[0]:g} kg m-2; --depth-rule topsoil or no depth columns)")
        return
    top, bottom = v["top_cm"], v["bottom_cm"]
    bd = v["bd"].fillna(options.bulk_density) if "bd" in v else pd.Series(options.bulk_density, index=top.index)
    v["soil_mass"] = layer_soil_mass(top, bottom, bd)
    v["npp"] = v["npp"] * layer_input_share(top, bottom, options.root_beta)
    given = int(v["bd"].notna().sum()) if "bd" in v else 0
    notes.append(f"soil_mass = 10 x layer thickness (cm) x bulk density ({given} row(s) with their own, the others "
                 f"{options.bulk_density:g} g cm-3, --default-bd); npp scaled by the layer's share of the input "
                 f"relative to 0-20 cm, root profile 1 - {options.root_beta:g}^depth (Jackson et al. 1996, --root-beta)")
    lacking = int((top.isna() | bottom.isna()).sum())
    if lacking:
        notes.append(f"{lacking} row(s) without a top and bottom depth: no soil_mass, so train leaves them out")


def _left_out(table: pd.DataFrame, vegetation: pd.Series | None, options: FractionsOptions, name: str,
              counts: list) -> pd.DataFrame:
    if options.drop_vegetation:
        if vegetation is None:
            raise DataError(f"{name}: --drop-vegetation needs a vegetation or land-use column")
        wanted = {v.strip().lower() for v in options.drop_vegetation}
        known = set(vegetation.dropna().str.strip().str.lower())
        unknown = sorted(wanted - known)
        if unknown:
            raise DataError(f"--drop-vegetation {short_repr(unknown[0])}: not a class of {name} (classes: "
                            f"{', '.join(sorted(known))})")
        drop = vegetation.str.strip().str.lower().isin(wanted).fillna(False).to_numpy(bool)
        counts.append((f"vegetation {', '.join(options.drop_vegetation)} (--drop-vegetation)", int(drop.sum())))
        table = table[~drop]
    target = [c for c in ("soc", "moc", "poc") if c in table]
    none = table[target].isna().all(axis=1).to_numpy()
    counts.append(("no carbon value", int(none.sum())))
    return table[~none]


def assemble_fractions(path: str | Path, options: FractionsOptions | None = None,
                       read: ReadOptions | None = None) -> Assembled:
    """Read a SOC-fraction table into the SOC model's table.

    Parameters
    ----------
    path : str or Path
        One row per sample (CSV, text or Parquet).
    options : FractionsOptions, optional
        Units, NPP, depth and soil mass rules, vegetation filter, site id.
    read : ReadOptions, optional
        Encoding, decimal mark and size limits.

    Returns
    -------
    Assembled
        The table, its column map for ``train --model soc`` and the report's lines.
    """
    options, read = (options or FractionsOptions()).check(), (read or ReadOptions()).check()
    path, problems, notes, counts = Path(path), Problems(), [], []
    frame = read_survey_table(path, read)
    mark = decimal_mark(frame, path.name, frame.attrs.get("separator"), read.decimal_mark)
    values = {**_climate_texture(frame, path.name, mark, problems, notes),
              **_carbon(frame, path.name, mark, options, problems, notes)}
    _forcing(values, options, path.name, notes)
    lm = mineral_type(frame, path.name, notes)
    if lm is not None:
        values["lm"] = lm
    vegetation, dummies = vegetation_columns(frame, path.name, notes)
    table = pd.DataFrame({"site_id": id_column_values(frame, options.id_columns, path.name, notes), **values,
                          **dummies})
    if vegetation is not None:
        table["vegetation"] = vegetation
    table = _left_out(table, vegetation, options, path.name, counts).reset_index(drop=True)
    if table.empty:
        raise DataError(f"{path.name}: no row with a carbon value is left")
    columns = _map(table, notes)
    return Assembled(table, columns, _report(path, table, columns, counts, notes, problems))


def _map(table: pd.DataFrame, notes: list[str]) -> dict:
    wanted = ["silt_clay", "lm", "map_mm", "depth_cm", *sorted(c for c in table if c.startswith("veg_"))]
    constant = [c for c in wanted if c in table and table[c].nunique(dropna=True) < 2]
    if constant:
        notes.append(f"not predictors, the same in every row: {', '.join(constant)}")
    wanted = [c for c in wanted if c in table and c not in constant]
    predictors, gappy = gappy_predictors(table, wanted, "column map")
    notes.extend(gappy)
    return {"id": "site_id", "targets": {t: t for t in ("soc", "moc", "poc") if t in table},
            "forcing": {"temp": "temp", "npp": "npp", "soil_mass": "soil_mass"}, "predictors": predictors,
            "units": {c: UNITS.get(c, "1 where the row's vegetation is this class") for c in table.columns
                      if c != "vegetation"}}


def _report(path, table, columns, counts, notes, problems) -> list[str]:
    lines = [f"{len(table)} rows of {table['site_id'].nunique()} sites from {path.name}",
             "rows left out, in this order: " + "; ".join(f"{reason}: {n}" for reason, n in counts), *notes,
             f"npp {table['npp'].median():.4g} g C m-2 yr-1 and soil_mass {table['soil_mass'].median():.4g} kg m-2 "
             f"(medians); litter input in_frac x npp / soil_mass",
             f"targets {', '.join(columns['targets'])} (g C kg-1); predictors: {', '.join(columns['predictors'])}"]
    if "vegetation" in table:
        managed = table["vegetation"].str.lower().str.contains("|".join(MANAGED), na=False)
        if managed.any():
            classes = sorted(set(table.loc[managed, "vegetation"]))
            lines.append(f"{int(managed.sum())} row(s) under managed land ({', '.join(classes)}): the SOC model "
                         f"assumes steady state, which tilled or converted soils rarely are; --drop-vegetation "
                         f"{classes[0]} leaves them out")
    if {"moc", "poc", "soc"} <= set(table):
        over = (table["moc"] + table["poc"]) > 1.2 * table["soc"]
        if over.any():
            lines.append(f"{int(over.sum())} row(s) whose MOC + POC exceed SOC by more than 20 % (check the units)")
    return [*lines, *problems.summary(), *problems.lines]


#: ``hybridlab data fractions``: the survey in the data source registry
DATA = DataSourceSpec(name="fractions", kind="survey", description=__doc__, load=assemble_fractions)

__all__ = ["FractionsOptions", "assemble_fractions"]
