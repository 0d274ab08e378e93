"""The column map of a joined LUCAS table (``table.columns.json``) and the report's lines on it:
the roles found (id, targets, forcing, predictors, coordinates), land cover as one-hot predictors,
and the points that ``train`` will leave out for a missing forcing or predictor value.

Predictors are the covariate stack when one is given (else every numeric column that is not an
id, a target or a forcing), plus land cover (``LC0_Desc``) as one 0/1 column per class
(``lc0_desc=Cropland``). A predictor missing in more than half of the points is left out of the
map with a line naming it, the rule of ``predictors: "*"`` (:mod:`core.datasets.incomplete`).
"""
from __future__ import annotations

import pandas as pd

from core.datasets.incomplete import describe_counts, gappy_predictors, missing_counts
from core.datasets.surveys.names import normalised

#: the forcing of the SOC model, found among the covariates by these names
FORCING = {"temp": ("temp", "MAT", "temperature", "bio1"), "npp": ("npp", "NPP_mean"),
           "soil_mass": ("soil_mass",)}
UNITS = {"oc": "g kg-1", "n": "g kg-1", "p": "mg kg-1", "k": "mg kg-1", "caco3": "g kg-1", "ec": "mS m-1",
         "ph_h2o": "-", "ph_cacl2": "-", "ox_al": "g kg-1", "ox_fe": "g kg-1", "elev": "m", "th_lat": "degree north",
         "th_long": "degree east", "bd": "g cm-3", "coarse_fragments": "fraction (0-1)", "clay": "%", "sand": "%",
         "silt": "%", "coarse": "% (> 2 mm)", "moc": "g kg-1 (as in the fractions file)",
         "poc": "g kg-1 (as in the fractions file)", "mbc": "as in the MBC file", "soc_density": "kg m-3"}
#: columns that are never predictors (targets, ids, the stock derived from a target)
NOT_PREDICTORS = ("point_id", "oc", "moc", "poc", "mbc", "soc_density")
#: land cover columns offered as one-hot predictors (by their snake_case name)
LAND_COVER = ("lc0_desc",)
#: a land cover column with more classes than this is not one-hot encoded
MAX_CLASSES = 30
#: coordinate columns, named in the report (by their snake_case name)
COORDINATES = ("th_lat", "th_long", "gps_lat", "gps_long", "x", "y", "lat", "lon", "latitude", "longitude")


#: ``pH_H2O`` and ``pH(H2O)`` -> ``ph_h2o``; ``TH_LAT`` -> ``th_lat``
snake = normalised


def one_hot_land_cover(table: pd.DataFrame, notes: list[str]) -> list[str]:
    """Add ``lc0_desc=<class>`` columns (1.0, 0.0; missing where the class is) for each land cover
    column of two or more classes; the new columns' names."""
    added = []
    for column in [c for c in table.columns if snake(c) in LAND_COVER and not pd.api.types.is_numeric_dtype(table[c])]:
        values = table[column].astype("string").str.strip().replace("", pd.NA)
        classes = sorted(values.dropna().unique())
        if len(classes) < 2 or len(classes) > MAX_CLASSES:
            why = f"one class ({classes[0]}) in every point" if len(classes) == 1 else f"{len(classes)} classes"
            notes.append(f"land cover {column}: {why}; not offered as a predictor")
            continue
        for name in classes:
            encoded = f"{snake(column)}={name}"
            table[encoded] = (values == name).astype("float64").where(values.notna())
            added.append(encoded)
        notes.append(f"land cover {column}: {len(classes)} classes offered as one-hot predictors (0/1): "
                     f"{', '.join(added[-len(classes):])}")
    return added


def column_map(table: pd.DataFrame, covariates: list[str] | None, encoded: list[str] = (),
               notes: list[str] | None = None) -> dict:
    """The mapping ``train --columns`` takes, with the units of every column it knows; ``encoded``:
    one-hot columns, always predictors; ``notes`` get a line for gappy predictors left out."""
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    numeric_set, covariate_set = set(numeric), set(covariates or ())
    targets = {name: column for name, column in (("soc", "oc"), ("moc", "moc"), ("poc", "poc"), ("mbc", "mbc"))
               if column in table}
    search = covariates if covariates is not None else numeric
    forcing = {}
    keys = {c: snake(c) for c in search}
    for name, spellings in FORCING.items():
        wanted = {snake(s) for s in spellings}
        found = [c for c in search if keys[c] in wanted]
        if found:
            forcing[name] = found[0]
    taken = set(NOT_PREDICTORS) | set(forcing.values())
    pool = [*covariates, *encoded] if covariates is not None else numeric
    predictors = [c for c in pool if c in numeric_set and c not in taken]
    predictors, gappy = gappy_predictors(table, predictors, "column map")
    if notes is not None:
        notes += gappy
    encoded = set(encoded)
    units = {c: UNITS.get(c, "0/1" if c in encoded else
                          "as in the covariates file" if c in covariate_set else "as in the file")
             for c in ["point_id", *numeric]}
    return {"id": "point_id", "targets": targets, "forcing": forcing, "predictors": predictors, "units": units}


def role_lines(table: pd.DataFrame, columns: dict) -> list[str]:
    """The roles the map gives, and the points train will leave out (one line each)."""
    def pairs(block: dict) -> str:
        return ", ".join(f"{name} = {column}" for name, column in block.items()) or "none"

    predictors = columns["predictors"]
    coordinates = [c for c in table.columns if snake(c) in COORDINATES]
    lines = [f"id: {columns['id']}", f"targets: {pairs(columns['targets'])}", f"forcing: {pairs(columns['forcing'])}",
             f"predictors ({len(predictors)}): {', '.join(predictors) or 'none'}",
             f"coordinates: {', '.join(coordinates) or 'none found'}"
             + (" (also predictors)" if set(coordinates) & set(predictors) else "")]
    unused = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c not in predictors
              and c not in NOT_PREDICTORS and c not in columns["forcing"].values() and c not in coordinates]
    if unused:
        lines.append(f"not predictors ({len(unused)}): {', '.join(unused)}; kept in the table (with a covariates file "
                     "only its columns and land cover are predictors, as a map needs them on its grid); add them to "
                     "the column map's predictors to use them")
    counts = missing_counts(table, [*columns["forcing"].values(), *predictors])
    if counts:
        incomplete = int(table[list(counts)].isna().any(axis=1).sum())
        lines.append(f"{incomplete} of {len(table)} points lack a forcing or predictor value ({describe_counts(counts)}); "
                     "train leaves them out")
    return lines


__all__ = ["FORCING", "NOT_PREDICTORS", "UNITS", "column_map", "one_hot_land_cover", "role_lines", "snake"]
