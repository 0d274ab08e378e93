"""Half-hourly or hourly eddy-covariance files made into the table the respiration model trains
on: :func:`assemble_fluxnet` (``hybridlab data fluxnet``).

The target ``reco`` is night-time NEE (umol CO2 m-2 s-1, the unit of the model's reco): at night
there is no photosynthesis, so the net flux is ecosystem respiration. Records are left out, each
reason counted in the report, in this order: no readable timestamp, day (or night not known),
NEE missing, quality flag failed, u* below the threshold (or u* missing), the forcing
temperature missing, and NEE below zero (noise around a small flux; the model's reco cannot
be negative, so train would refuse the table). Predictors are computed from every record of the
file, before any is left out: day of year as sin/cos and the antecedent means of the 24 hours
before each night (temperature, radiation). Layouts and columns: :mod:`.flux_columns`; night,
quality and u*: :mod:`.flux_filters`; time and blocks: :mod:`.flux_time`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.datasets.registry import DataSourceSpec
from core.errors import DataError
from core.datasets.surveys.flux_columns import LAYOUTS, FluxFile, numbers, read_flux_file
from core.datasets.surveys.flux_filters import FluxOptions, night, quality, ustar_rejected
from core.datasets.surveys.flux_table import flux_table
from core.datasets.surveys.flux_time import night_dates, stamped_midpoints, year_day_hour_midpoints
from core.datasets.surveys.lucas import Assembled
from core.datasets.surveys.ranges import check_range
from core.datasets.surveys.reading import ReadOptions
from core.datasets.surveys.tables import Problems

#: physical range of each variable as read (lowest, highest, unit); outside: missing, counted
RANGES = {"nee": (-100, 100, "umol m-2 s-1"), "fc": (-100, 100, "umol m-2 s-1"), "sc": (-100, 100, "umol m-2 s-1"),
          "ta": (-60, 60, "degC"), "ts": (-50, 70, "degC"), "sw_in": (-50, 1500, "W m-2"),
          "ppfd_in": (-100, 3000, "umol m-2 s-1"), "vpd": (-5, 150, "hPa"), "swc": (0, 100, "%"),
          "ustar": (0, 5, "m s-1"), "reco_network": (-50, 100, "umol m-2 s-1")}
#: the least share of a 24-hour block's records an antecedent mean needs
MIN_COVERAGE = 0.5


def _values(flux: FluxFile, vpd_unit: str, problems: Problems, notes: list[str]) -> dict[str, pd.Series]:
    """Each recognised variable as numbers, outside its physical range missing; VPD in hPa."""
    values = {}
    for variable, column in flux.names.items():
        series = numbers(flux, column, problems, notes)
        if variable == "vpd":
            said = flux.units.get(column, "").lower().replace(" ", "")
            unit = vpd_unit.lower() if vpd_unit != "auto" else said if said in ("hpa", "kpa") else "hpa"
            how = "--vpd-unit" if vpd_unit != "auto" else "the units line" if said in ("hpa", "kpa") else \
                "FLUXNET's unit; --vpd-unit kPa if the file holds kPa"
            series = series * 10 if unit == "kpa" else series
            notes.append(f"VPD {column} in {'kPa, multiplied by 10 to hPa' if unit == 'kpa' else 'hPa'} ({how})")
        if variable in RANGES:
            series = check_range(series, RANGES[variable], name=flux.path.name, column=column, table_name=variable,
                                 problems=problems)
        values[variable] = series
    return values


def _time(flux: FluxFile, problems: Problems) -> tuple[pd.Series, pd.Timedelta, str]:
    if flux.layout != "reddyproc":
        return stamped_midpoints(flux.cells, flux.path.name, problems)
    upper = {str(c).strip().upper(): c for c in flux.cells.columns}
    year, doy, hour = (numbers(flux, upper[name], problems, []) for name in ("YEAR", "DOY", "HOUR"))
    return year_day_hour_midpoints(year, doy, hour, flux.path.name, problems)


def _nee(flux: FluxFile, values: dict) -> tuple[pd.Series, str, str]:
    """(NEE, the column whose quality flag applies, a line saying where NEE came from)."""
    names = flux.names
    if "nee" in names:
        column = names["nee"]
        why = (" (ONEFlux's u*-filtered, gap-filled NEE: the quality flag keeps the measured records)"
               if column.upper().startswith(("NEE_VUT", "NEE_CUT")) else "")
        return values["nee"], column, f"NEE: column {column}{why}"
    if "fc" not in names:
        raise DataError(f"{flux.path.name}: no NEE or FC column")
    if "sc" in names:
        return (values["fc"] + values["sc"], names["fc"],
                f"NEE = {names['fc']} + {names['sc']} (turbulent flux plus storage change); missing where either is")
    return values["fc"], names["fc"], f"NEE: {names['fc']} (no storage term SC in the file, so NEE = FC)"


def _forcing(flux: FluxFile, values: dict, options: FluxOptions) -> tuple[pd.Series, str]:
    variable = "ta" if options.temperature == "air" else "ts"
    if variable not in values:
        what = "air temperature (TA_F, TA, Tair)" if variable == "ta" else "soil temperature (TS_F_MDS_1, TS, Tsoil)"
        raise DataError(f"{flux.path.name}: --temperature {options.temperature}: no {what} column")
    return values[variable], flux.names[variable]


def antecedent(time: pd.Series, series: pd.Series, step: pd.Timedelta) -> pd.Series:
    """For each record: the mean of ``series`` over the 24 hours before its night's noon-to-noon
    block (the previous block), NaN where fewer than MIN_COVERAGE of that block's records exist."""
    dates = night_dates(time)
    per_block = pd.DataFrame({"date": dates, "value": series}).dropna(subset=["date"]).groupby("date")["value"]
    expected = pd.Timedelta(days=1) / step
    means = per_block.mean().where(per_block.count() >= MIN_COVERAGE * expected)
    previous = dates - pd.Timedelta(days=1)
    return pd.Series(previous.map(means).to_numpy(dtype=float), index=time.index)


class _Filters:
    """Records kept so far, and how many each reason removed."""

    def __init__(self, index: pd.Index):
        self.keep = pd.Series(True, index=index)
        self.counts: list[tuple[str, int]] = []

    def drop(self, reason: str, rejected: pd.Series) -> None:
        rejected = rejected.fillna(True).astype(bool)
        self.counts.append((reason, int((self.keep & rejected).sum())))
        self.keep &= ~rejected


def _apply_filters(flux: FluxFile, values: dict, time: pd.Series, options: FluxOptions, problems: Problems,
                   notes: list[str]) -> tuple[_Filters, pd.Series, pd.Series, list[str]]:
    """The filters in the order of the module's text; (filters, NEE, forcing, lines)."""
    filters = _Filters(time.index)
    nee, nee_column, nee_line = _nee(flux, values)
    is_night, night_lines = night(flux, values, time, options)
    qc, rejected_qc, qc_line = quality(flux, nee_column, options, problems, notes)
    temp, temp_column = _forcing(flux, values, options)
    filters.drop("no readable timestamp", time.isna())
    filters.drop("day, or night not known", ~(is_night == 1))
    filters.drop("NEE missing", nee.isna())
    filters.drop("quality flag failed or missing", rejected_qc)
    rejected_u, u_line, _ = ustar_rejected(values, nee, time, filters.keep.copy(), options, nee_column)
    filters.drop("u* below the threshold or missing", rejected_u)
    filters.drop(f"forcing temperature {temp_column} missing", temp.isna())
    filters.drop("NEE below zero (the model's reco cannot be negative)", nee < 0)
    lines = [nee_line, *night_lines, qc_line, u_line,
             f"forcing temp = {temp_column} ({options.temperature} temperature, degC; --temperature)"]
    if qc is not None:
        values["nee_qc"] = qc
    return filters, nee, temp, lines


def assemble_fluxnet(path: str | Path, options: FluxOptions | None = None,
                     read: ReadOptions | None = None, site: str | None = None) -> Assembled:
    """Read one flux file and build the night-time respiration table.

    Parameters
    ----------
    path : str or Path
        A FLUXNET2015/ONEFlux, europe-fluxdata/ICOS or REddyProc input file (CSV or text).
    options : FluxOptions, optional
        Night, quality, u* and temperature choices, and the blocks splits group by.
    read : ReadOptions, optional
        Encoding, decimal mark and size limits.
    site : str, optional
        The site's name in the table (default: the file's name up to its first '_', or its stem).

    Returns
    -------
    Assembled
        The table (one row per night record kept), its column map and the report's lines.
    """
    options = (options or FluxOptions()).check()
    read = (read or ReadOptions()).check()
    problems, notes = Problems(), []
    flux = read_flux_file(path, read)
    values = _values(flux, options.vpd_unit, problems, notes)
    time, step, how = _time(flux, problems)
    filters, nee, temp, lines = _apply_filters(flux, values, time, options, problems, notes)
    for name, column in (("temp_prev_day", temp), ("sw_in_prev_day", values.get("sw_in")),
                         ("ppfd_in_prev_day", None if "sw_in" in values else values.get("ppfd_in"))):
        if column is not None:
            values[name] = antecedent(time, column, step)
    site = site or _site_name(flux.path)
    table, columns, table_lines = flux_table(flux, values, time, nee, temp, filters.keep, options, site)
    span = time.dropna()
    head = [f"{LAYOUTS[flux.layout]} layout: {len(flux.cells)} records of {flux.path.name}, "
            + (f"{span.min():%Y-%m-%d %H:%M} to {span.max():%Y-%m-%d %H:%M}; " if len(span) else "") + how]
    if flux.missing:
        head.append("missing values (-9999, NA): " + ", ".join(f"{c} {n}" for c, n in flux.missing.items()))
    left = "; ".join(f"{reason}: {n}" for reason, n in filters.counts)
    report = [*head, *lines, f"records left out, in this order: {left}; {len(table)} night records kept", *notes,
              *table_lines, *problems.summary(), *problems.lines]
    return Assembled(table, columns, report)


def _site_name(path: Path) -> str:
    """FLUXNET's ``FLX_FR-Pue_FLUXNET2015_...`` -> ``FR-Pue``; else the part before the first '_'."""
    parts = path.stem.split("_")
    if parts[0].upper() == "FLX" and len(parts) > 1:
        return parts[1]
    return parts[0] or path.stem


#: ``hybridlab data fluxnet``: the survey in the data source registry
DATA = DataSourceSpec(name="fluxnet", kind="survey", description=__doc__, load=assemble_fluxnet)


__all__ = ["FluxOptions", "antecedent", "assemble_fluxnet"]
