"""The choices that make night-time NEE a respiration target: which records are night, which
pass the quality flag, and which pass the u* filter. Each returns the records it removes and a
line for the report; :mod:`.fluxnet` applies them in order and counts what each removed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataError
from core.datasets.surveys.flux_columns import FluxFile, numbers, quality_column
from core.datasets.surveys.flux_time import potential_radiation
from core.datasets.surveys.flux_ustar import MIN_RECORDS, TEMPERATURE_CLASSES, estimate_threshold
from core.datasets.surveys.tables import Problems

#: PPFD (umol m-2 s-1) per W m-2 of shortwave radiation, for a night threshold given in SW_IN
PPFD_PER_SW = 2.1
NIGHT_METHODS = ("auto", "flag", "potential", "sw-in")


@dataclass(frozen=True)
class FluxOptions:
    """How night-time NEE becomes a respiration table (see ``hybridlab data fluxnet --help``).

    Parameters
    ----------
    temperature : str
        ``air`` or ``soil``: the temperature that forces the model.
    night : str
        ``auto`` (the file's NIGHT flag, else potential radiation from the coordinates, else
        SW_IN), ``flag``, ``potential`` or ``sw-in``.
    sw_threshold : float
        SW_IN below this is night (W m-2); PPFD below PPFD_PER_SW times it.
    latitude, longitude, utc_offset : float, optional
        The site (degrees) and its local standard time's hours ahead of UTC.
    ustar_threshold : float or str, optional
        None (default: per layout, see :func:`ustar_rejected`), ``auto`` (moving-point estimate),
        a value in m s-1, or 0 for no u* filter.
    max_qc : int, optional
        The worst quality flag kept (default 0, measured, for FLUXNET's 0-3; 1 for ICOS's SSITC 0-2).
    min_qc_fraction : float
        The least share of good data kept where the flag is a fraction (FLUXNET's *_MEAN_QC).
    blocks : str
        ``day`` or ``week``: the groups that splits keep together.
    vpd_unit : str
        ``auto`` (the units line, else hPa, FLUXNET's unit), ``hPa`` or ``kPa`` (multiplied by 10).
    """

    temperature: str = "air"
    night: str = "auto"
    sw_threshold: float = 10.0
    latitude: float | None = None
    longitude: float | None = None
    utc_offset: float | None = None
    ustar_threshold: float | str | None = None
    max_qc: int | None = None
    min_qc_fraction: float = 1.0
    blocks: str = "week"
    vpd_unit: str = "auto"

    def check(self) -> "FluxOptions":
        """The options, or one line naming the first that is wrong."""
        if self.temperature not in ("air", "soil"):
            raise DataError(f"--temperature must be air or soil, got {self.temperature!r}")
        if self.night not in NIGHT_METHODS:
            raise DataError(f"--night must be one of {', '.join(NIGHT_METHODS)}, got {self.night!r}")
        if self.blocks not in ("day", "week"):
            raise DataError(f"--blocks must be day or week, got {self.blocks!r}")
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise DataError(f"--latitude must lie in -90 to 90 degrees, got {self.latitude:g}")
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise DataError(f"--longitude must lie in -180 to 180 degrees, got {self.longitude:g}")
        if self.ustar_threshold not in (None, "auto") and not (isinstance(self.ustar_threshold, (int, float))
                                                     and 0 <= self.ustar_threshold < 5):
            raise DataError(f"--ustar-threshold must be auto or a value in m s-1 from 0 to 5, got "
                            f"{self.ustar_threshold!r}")
        if self.vpd_unit not in ("auto", "hPa", "kPa"):
            raise DataError(f"--vpd-unit must be auto, hPa or kPa, got {self.vpd_unit!r}")
        if not 0 <= self.min_qc_fraction <= 1:
            raise DataError(f"--min-qc-fraction must lie in 0 to 1, got {self.min_qc_fraction:g}")
        return self


def _coordinates(options: FluxOptions) -> bool:
    given = [v is not None for v in (options.latitude, options.longitude, options.utc_offset)]
    if any(given) and not all(given):
        raise DataError("potential radiation needs all of --latitude, --longitude and --utc-offset (the hours "
                        "the file's local standard time is ahead of UTC, e.g. 1 for central Europe)")
    return all(given)


def _radiation_night(values: dict, options: FluxOptions) -> tuple[pd.Series, str]:
    if "sw_in" in values:
        sw = values["sw_in"]
        return (sw < options.sw_threshold).astype(float).where(sw.notna()), \
            f"night: SW_IN below {options.sw_threshold:g} W m-2"
    if "ppfd_in" in values:
        ppfd, limit = values["ppfd_in"], PPFD_PER_SW * options.sw_threshold
        return (ppfd < limit).astype(float).where(ppfd.notna()), \
            f"night: PPFD_IN below {limit:g} umol m-2 s-1 ({PPFD_PER_SW} x the SW_IN threshold {options.sw_threshold:g} W m-2)"
    raise DataError("--night sw-in: the file has no SW_IN (or Rg, PPFD_IN) column; give --night potential with "
                    "--latitude, --longitude and --utc-offset")


def night(flux: FluxFile, values: dict, time: pd.Series, options: FluxOptions) -> tuple[pd.Series, list[str]]:
    """1.0 where a record is night, 0.0 where day, NaN where it cannot be told; the report's lines."""
    method, coordinates = options.night, _coordinates(options)
    if method == "auto":
        method = "flag" if "night" in values else "potential" if coordinates else "sw-in"
    lines = []
    if coordinates:
        potential = pd.Series(potential_radiation(time, options.latitude, options.longitude, options.utc_offset),
                              index=time.index).where(time.notna())
        by_sun = (potential <= 0).astype(float).where(potential.notna())
    if method == "flag":
        if "night" not in values:
            raise DataError(f"{flux.path.name}: --night flag, but the file has no NIGHT column")
        flag = values["night"].where(values["night"].isin([0, 1]))
        lines.append(f"night: the file's {flux.names['night']} flag (1 = night)")
        if coordinates:
            both = flag.notna() & by_sun.notna()
            agree = float((flag[both] == by_sun[both]).mean() * 100) if both.any() else float("nan")
            lines.append(f"the NIGHT flag agrees with potential radiation at the given coordinates in {agree:.1f} % "
                         f"of records")
        return flag, lines
    if method == "potential":
        if not coordinates:
            raise DataError("--night potential needs --latitude, --longitude and --utc-offset")
        return by_sun, [f"night: potential radiation zero at {options.latitude:g} N, {options.longitude:g} E, "
                        f"local standard time UTC{options.utc_offset:+g} h (sun below the horizon at mid-interval)"]
    flag, line = _radiation_night(values, options)
    return flag, [line]


def _is_fraction(column: str, qc: pd.Series) -> bool:
    """FLUXNET's *_MEAN_QC (and any flag with values between whole numbers) is a share of good data."""
    finite = qc.dropna().to_numpy()
    return column.upper().endswith("_MEAN_QC") or bool(len(finite) and (finite != np.round(finite)).any())


def quality(flux: FluxFile, nee_column: str, options: FluxOptions, problems: Problems,
            notes: list[str]) -> tuple[pd.Series | None, pd.Series, str]:
    """(the flag's values, the records it rejects, the report's line); a record without a flag
    value is rejected. No flag column: none rejected, and the line says so."""
    column = quality_column(flux, nee_column)
    if column is None:
        none = pd.Series(False, index=flux.cells.index)
        return None, none, (f"quality: no flag for {nee_column} (looked for {nee_column}_QC and the SSITC test); "
                            f"no quality filter applied")
    qc = numbers(flux, column, problems, notes)
    if _is_fraction(column, qc):
        rejected = ~(qc >= options.min_qc_fraction)
        return qc, rejected, (f"quality: {column} read as the share of good data (0-1); records below "
                              f"{options.min_qc_fraction:g} left out (--min-qc-fraction)")
    ssitc = "SSITC" in column.upper()
    limit = options.max_qc if options.max_qc is not None else (1 if ssitc else 0)
    scale = "0 best, 1 good, 2 bad (SSITC)" if ssitc else "0 measured, 1 good, 2 medium, 3 poor gap-fill"
    rejected = ~(qc <= limit)
    return qc, rejected, f"quality: {column} flags {scale}; records above {limit} left out (--max-qc)"


#: NEE columns ONEFlux (FLUXNET2015) has already u*-filtered (VUT: variable u* threshold; CUT: constant)
NETWORK_FILTERED = ("NEE_VUT", "NEE_CUT")


def ustar_rejected(values: dict, nee: pd.Series, time: pd.Series, candidates: pd.Series,
                   options: FluxOptions, nee_column: str = "") -> tuple[pd.Series, str, float | None]:
    """(records the u* filter rejects, the report's line, the threshold); ``candidates``: night
    records that passed the other filters (the moving-point test's input). The default
    (``ustar_threshold`` None) is no further filter for ONEFlux's NEE_VUT_*/NEE_CUT_* (the network
    has filtered them by its own u* thresholds, and the quality flag keeps measured records),
    else the moving-point estimate (raw NEE of ICOS or REddyProc files)."""
    none = pd.Series(False, index=nee.index)
    choice = options.ustar_threshold
    if choice is None and nee_column.upper().startswith(NETWORK_FILTERED):
        return none, (f"u* filter: none further ({nee_column} is ONEFlux's NEE, already filtered by the "
                      f"network's {nee_column[4:7].upper()} u* thresholds; --ustar-threshold auto or a value adds "
                      f"one)"), None
    if choice == 0:
        return none, "u* filter: none (--ustar-threshold 0)", None
    if "ustar" not in values:
        if choice not in (None, "auto"):
            raise DataError("--ustar-threshold: the file has no USTAR (or Ustar) column")
        return none, "u* filter: none (the file has no USTAR column)", None
    ustar = values["ustar"]
    if choice in (None, "auto"):
        threshold, line = _estimated(values, ustar, nee, time, candidates)
    else:
        threshold = float(choice)
        line = f"u* threshold {threshold:g} m s-1 (--ustar-threshold)"
    return ~(ustar >= threshold), line + "; records below it, or without u*, left out", threshold


def _estimated(values: dict, ustar: pd.Series, nee: pd.Series, time: pd.Series,
               candidates: pd.Series) -> tuple[float, str]:
    temp = values.get("ta", values.get("ts"))
    if temp is None:
        raise DataError("the u* threshold estimate needs air temperature (TA); give --ustar-threshold")
    rows = candidates.to_numpy(dtype=bool)
    estimate = estimate_threshold(ustar[rows], nee[rows], temp[rows], time[rows])
    if estimate.threshold is None:
        raise DataError(f"{estimate.line()}: too few night records to estimate it (a season needs "
                        f"{MIN_RECORDS * TEMPERATURE_CLASSES}); give --ustar-threshold VALUE (m s-1), or 0 for "
                        f"no u* filter")
    return estimate.threshold, estimate.line()


__all__ = ["FluxOptions", "NETWORK_FILTERED", "NIGHT_METHODS", "PPFD_PER_SW", "night", "quality", "ustar_rejected"]
