"""Time in flux files: each record's interval (from ``TIMESTAMP_START`` / ``TIMESTAMP_END`` as
``YYYYMMDDHHMM`` or ISO text, or REddyProc's ``Year DoY Hour``), its midpoint, the potential
(top-of-atmosphere) shortwave radiation at the site, and the blocks that splits group by.

A night belongs to one block: the block of a record is the date of its midpoint less 12 hours
(noon to noon), so that the evening and the morning of one night are never split between
training and validation. Week blocks are ISO weeks of that date (``2014-W05``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import DataError
from core.datasets.surveys.tables import Problems

#: the solar constant used for potential radiation (W m-2)
SOLAR_CONSTANT = 1361.0
BAD_TIME = "timestamp not readable, row left out"


def _parse_stamps(text: pd.Series) -> pd.Series:
    """``YYYYMMDDHHMM`` (FLUXNET, ICOS) or ISO date-time text; NaT where neither."""
    cells = text.astype("string").str.strip()
    compact = cells.str.fullmatch(r"\d{12}").fillna(False)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    out[compact] = pd.to_datetime(cells[compact], format="%Y%m%d%H%M", errors="coerce")
    rest = ~compact & cells.notna()
    if rest.any():
        out[rest] = pd.to_datetime(cells[rest], format="ISO8601", errors="coerce")
    return out


def _step(stamps: pd.Series, path_name: str) -> pd.Timedelta:
    """The records' time step: the most common difference between sorted timestamps."""
    diffs = stamps.dropna().sort_values().diff().dropna()
    diffs = diffs[diffs > pd.Timedelta(0)]
    if diffs.empty:
        raise DataError(f"{path_name}: fewer than two distinct timestamps; the time step cannot be found")
    return diffs.mode().iloc[0]


def _count_bad(stamps: pd.Series, text: pd.Series, column: str, name: str, problems: Problems) -> None:
    for line in stamps.index[stamps.isna().to_numpy()]:
        problems.add(BAD_TIME, (name, column), f"{name}: column {column}, row {line}: timestamp "
                     f"{text.get(line)!r} is not YYYYMMDDHHMM or an ISO date-time; row left out")


def stamped_midpoints(cells: pd.DataFrame, name: str, problems: Problems) -> tuple[pd.Series, pd.Timedelta, str]:
    """Midpoints of the intervals from TIMESTAMP_START and/or _END (or a lone TIMESTAMP, taken
    as the interval's end); the step; a line saying how."""
    upper = {str(c).strip().upper(): c for c in cells.columns}
    start, end = upper.get("TIMESTAMP_START"), upper.get("TIMESTAMP_END")
    if start is None and end is None and "TIMESTAMP" in upper:
        end = upper["TIMESTAMP"]
    column = start or end
    if column is None:
        raise DataError(f"{name}: no TIMESTAMP_START, TIMESTAMP_END or TIMESTAMP column")
    stamps = _parse_stamps(cells[column])
    _count_bad(stamps, cells[column], column, name, problems)
    if start and end:
        step = (_parse_stamps(cells[end]) - stamps).dropna().median()
    else:
        step = _step(stamps, name)
    half = step / 2
    how = f"time from {column} ({'start' if column == start else 'end'} of each {_minutes(step)} interval)"
    return (stamps + half if column == start else stamps - half), step, how


def _minutes(step: pd.Timedelta) -> str:
    return f"{step.total_seconds() / 60:g}-minute"


def year_day_hour_midpoints(year: pd.Series, doy: pd.Series, hour: pd.Series, name: str,
                            problems: Problems) -> tuple[pd.Series, pd.Timedelta, str]:
    """Midpoints from REddyProc's Year, DoY and decimal Hour. Hours that reach 24 and never 0
    stamp the interval's end (REddyProc's convention, also taken when neither is seen); hours
    from 0 that never reach 24 stamp its start."""
    valid = (year.notna() & doy.notna() & hour.notna() & (year == year.round()) & year.between(1900, 2200)
             & doy.between(1, 366) & hour.between(0, 24))
    for line in year.index[~valid.to_numpy()]:
        problems.add(BAD_TIME, (name, "Year/DoY/Hour"), f"{name}: columns Year, DoY, Hour, row {line}: "
                     f"{year.get(line)}, {doy.get(line)}, {hour.get(line)} is not a time; row left out")
    base = pd.to_datetime(year.where(valid).astype("Int64").astype("string") + "-01-01", errors="coerce")
    stamps = base + pd.to_timedelta(doy.where(valid) - 1, unit="D") + pd.to_timedelta(hour.where(valid), unit="h")
    stamps.index = year.index
    step = _step(stamps, name)
    at_start = bool((hour == 0).any()) and not bool((hour == 24).any())
    unseen = not at_start and not bool((hour == 24).any())
    how = (f"time from Year, DoY, Hour ({'start' if at_start else 'end'} of each {_minutes(step)} interval"
           + ("; neither hour 0 nor 24 seen, taken as the end as REddyProc does)" if unseen else ")"))
    return (stamps + step / 2 if at_start else stamps - step / 2), step, how


def potential_radiation(time: pd.Series, latitude: float, longitude: float, utc_offset: float) -> np.ndarray:
    """Top-of-atmosphere shortwave radiation (W m-2) at local standard times ``time`` (hours
    ahead of UTC: ``utc_offset``) for a site at ``latitude``, ``longitude`` (degrees)."""
    doy = time.dt.day_of_year.to_numpy(dtype=float)
    hours = (time.dt.hour + time.dt.minute / 60 + time.dt.second / 3600).to_numpy(dtype=float)
    angle = 2 * np.pi * (doy - 1) / 365.0
    declination = (0.006918 - 0.399912 * np.cos(angle) + 0.070257 * np.sin(angle) - 0.006758 * np.cos(2 * angle)
                   + 0.000907 * np.sin(2 * angle) - 0.002697 * np.cos(3 * angle) + 0.00148 * np.sin(3 * angle))
    equation_of_time = 229.18 * (0.000075 + 0.001868 * np.cos(angle) - 0.032077 * np.sin(angle)
                                 - 0.014615 * np.cos(2 * angle) - 0.040849 * np.sin(2 * angle))  # minutes
    solar_hours = hours + (4 * (longitude - 15 * utc_offset) + equation_of_time) / 60
    hour_angle = np.radians(15 * (solar_hours - 12))
    phi = np.radians(latitude)
    cos_zenith = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(hour_angle)
    distance = 1 + 0.033 * np.cos(2 * np.pi * doy / 365.0)
    return SOLAR_CONSTANT * distance * np.clip(cos_zenith, 0, None)


def night_dates(time: pd.Series) -> pd.Series:
    """The date each record's night belongs to (noon to noon)."""
    return (time - pd.Timedelta(hours=12)).dt.normalize()


def blocks(dates: pd.Series, unit: str) -> pd.Series:
    """Block labels for splits: ``2014-03-05`` (day) or ``2014-W10`` (ISO week) of each night's date."""
    if unit == "day":
        return dates.dt.strftime("%Y-%m-%d")
    if unit == "week":
        iso = dates.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    raise DataError(f"--blocks must be day or week, got {unit!r}")


def day_of_year_terms(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """sin and cos of 2 pi doy / 365.25 for each night's date (doy: 1-366)."""
    angle = 2 * np.pi * dates.dt.day_of_year.to_numpy(dtype=float) / 365.25
    return np.sin(angle), np.cos(angle)


__all__ = ["BAD_TIME", "SOLAR_CONSTANT", "blocks", "day_of_year_terms", "night_dates", "potential_radiation",
           "stamped_midpoints", "year_day_hour_midpoints"]
