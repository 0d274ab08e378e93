"""The night-time respiration table's columns, its column map (``.columns.json``) and the
report's lines on both. The names are those ``hybridlab train --model respiration`` takes:
target ``reco``, forcing ``temp``, groups ``block``.

Predictors: VPD and soil moisture where the file has them, day of year as sin/cos, and the
antecedent means of the 24 hours before each night (``temp_prev_day``, ``sw_in_prev_day``).
Not predictors, kept for reference: the night's own radiation (below the night threshold by
construction), the other temperature (it would hand the network the temperature response that
Q10 is to describe), u*, and ``reco_network``, the flux network's own partitioned Reco, which is
for comparison only.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets.incomplete import describe_counts, gappy_predictors, missing_counts
from core.datasets.surveys.flux_columns import FluxFile
from core.datasets.surveys.flux_filters import FluxOptions
from core.datasets.surveys.flux_time import blocks, day_of_year_terms, night_dates

#: the table's columns and their units
UNITS = {"time": "local standard time of the file, mid-interval", "block": "night's date (noon to noon) or ISO week",
         "site": "-", "reco": "umol CO2 m-2 s-1 (night-time NEE)", "temp": "degC", "ta": "degC", "ts": "degC",
         "vpd": "hPa", "swc": "% (volumetric, as in the file)", "ustar": "m s-1", "sw_in": "W m-2",
         "ppfd_in": "umol m-2 s-1", "doy_sin": "-", "doy_cos": "-", "temp_prev_day": "degC",
         "sw_in_prev_day": "W m-2", "ppfd_in_prev_day": "umol m-2 s-1", "nee_qc": "as in the file",
         "reco_network": "umol CO2 m-2 s-1 (the network's night-time partitioned Reco)"}
PREDICTORS = ("vpd", "swc", "doy_sin", "doy_cos", "temp_prev_day", "sw_in_prev_day", "ppfd_in_prev_day")
KEPT = ("ta", "ts", "sw_in", "ppfd_in", "ustar", "nee_qc", "reco_network")


def _columns(values: dict, time: pd.Series, nee: pd.Series, temp: pd.Series, keep: pd.Series,
             options: FluxOptions, site: str) -> pd.DataFrame:
    rows = keep.to_numpy(dtype=bool)
    dates = night_dates(time[rows])
    sin, cos = day_of_year_terms(dates)
    table = pd.DataFrame({"time": time[rows].to_numpy(), "block": blocks(dates, options.blocks).to_numpy(),
                          "site": site, "reco": nee[rows].to_numpy(), "temp": temp[rows].to_numpy()})
    for name in PREDICTORS + KEPT:
        if name in ("doy_sin", "doy_cos"):
            table[name] = sin if name == "doy_sin" else cos
        elif name in values:
            table[name] = values[name][rows].to_numpy(dtype=float)
    return table


def _predictors(table: pd.DataFrame, notes: list[str]) -> list[str]:
    present = [c for c in PREDICTORS if c in table]
    empty = [c for c in present if table[c].isna().all()]
    if empty:
        notes.append(f"no values in the night records kept: {', '.join(empty)}; not predictors")
    predictors, gappy = gappy_predictors(table, [c for c in present if c not in empty], "column map")
    notes.extend(gappy)
    return predictors


def _correlation_note(table: pd.DataFrame, predictors: list[str]) -> list[str]:
    if "temp_prev_day" not in predictors:
        return []
    both = table[["temp", "temp_prev_day"]].dropna()
    if len(both) < 3 or both.std().min() == 0:
        return []
    r = float(np.corrcoef(both["temp"], both["temp_prev_day"])[0, 1])
    return [f"temp_prev_day correlates with the forcing temp (r = {r:.2f}): the network can take part of the "
            f"temperature response into rb, lowering the learned Q10; drop it from the map's predictors to compare"]


def flux_table(flux: FluxFile, values: dict, time: pd.Series, nee: pd.Series, temp: pd.Series, keep: pd.Series,
               options: FluxOptions, site: str) -> tuple[pd.DataFrame, dict, list[str]]:
    """(the table of the night records kept, its column map, the report's lines)."""
    table = _columns(values, time, nee, temp, keep, options, site)
    if table.empty:
        from core.errors import DataError

        raise DataError(f"{flux.path.name}: no night record is left after the filters (see the counts: try a "
                        f"lower --ustar-threshold, --max-qc or --min-qc-fraction)")
    notes: list[str] = []
    predictors = _predictors(table, notes)
    columns = {"id": "block", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"}, "predictors": predictors,
               "units": {c: UNITS[c] for c in table.columns if c in UNITS}}
    kept = [c for c in table.columns if c not in predictors and c not in ("time", "block", "site", "reco", "temp")]
    lines = [f"target reco = night-time NEE in umol CO2 m-2 s-1 (the respiration model's unit); mean "
             f"{table['reco'].mean():.3g}, range {table['reco'].min():.3g} to {table['reco'].max():.3g}",
             f"splits group by block: {table['block'].nunique()} {'nights' if options.blocks == 'day' else 'ISO weeks'} "
             f"(noon to noon, --blocks {options.blocks}), so validation is on unseen nights",
             f"predictors ({len(predictors)}): " + ", ".join(f"{c} ({UNITS[c]})" for c in predictors),
             *notes, *_correlation_note(table, predictors)]
    if kept:
        lines.append(f"kept, not predictors: {', '.join(kept)} (the night's radiation is below the night threshold "
                     f"by construction; the other temperature would carry the temperature response; reco_network "
                     f"is the network's partitioned Reco, for comparison only)")
    counts = missing_counts(table, ["temp", *predictors])
    if counts:
        incomplete = int(table[list(counts)].isna().any(axis=1).sum())
        lines.append(f"{incomplete} of {len(table)} records lack a predictor value ({describe_counts(counts)}); "
                     f"train leaves them out")
    return table, columns, lines


__all__ = ["KEPT", "PREDICTORS", "UNITS", "flux_table"]
