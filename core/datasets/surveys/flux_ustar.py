"""The u* threshold below which night-time eddy fluxes underestimate respiration, estimated by a
moving-point test in the manner of Reichstein et al. (2005) and Papale et al. (2006).

For each season (Dec-Feb, Mar-May, Jun-Aug, Sep-Nov) the night records are split into
TEMPERATURE_CLASSES classes of equal size by air temperature, each class into USTAR_CLASSES
classes of equal size by u*. In a temperature class the threshold is the mean u* of the first
u* class whose mean flux reaches PLATEAU (99 %) of the mean flux of the FOLLOWING classes after
it; a class where u* and temperature correlate (abs(r) >= MAX_CORRELATION) gives none. A season's
threshold is the median over its temperature classes; a season with fewer than
MIN_RECORDS x TEMPERATURE_CLASSES night records is skipped (and reported). The annual threshold
is the largest of the seasons' (Reichstein et al. 2005), and since one estimate swings with a
few records, the one applied is the median of the annual threshold over BOOTSTRAP resamples of
the night records (each season resampled with replacement, seed SEED); its 5-95 % range is
reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TEMPERATURE_CLASSES = 6
USTAR_CLASSES = 20
FOLLOWING = 10
PLATEAU = 0.99
MAX_CORRELATION = 0.4
#: the fewest night records a temperature class needs (a season needs TEMPERATURE_CLASSES times it)
MIN_RECORDS = 100
#: resamples of the night records, and the generator's seed
BOOTSTRAP = 100
SEED = 0
SEASONS = {12: "Dec-Feb", 1: "Dec-Feb", 2: "Dec-Feb", 3: "Mar-May", 4: "Mar-May", 5: "Mar-May",
           6: "Jun-Aug", 7: "Jun-Aug", 8: "Jun-Aug", 9: "Sep-Nov", 10: "Sep-Nov", 11: "Sep-Nov"}


@dataclass
class UstarEstimate:
    """The threshold applied (m s-1, None when no season gave one), its 5-95 % bootstrap range,
    each season's median over the resamples (None: no threshold found) and the seasons skipped
    for too few records (season -> night records)."""

    threshold: float | None
    seasons: dict[str, float | None] = field(default_factory=dict)
    records: int = 0
    low: float | None = None
    high: float | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """One line for the report."""
        each = ", ".join(f"{season} {'none' if value is None else f'{value:.3f}'}"
                         for season, value in self.seasons.items())
        few = "; ".join(f"{season} skipped ({n} night records, fewer than {MIN_RECORDS * TEMPERATURE_CLASSES})"
                        for season, n in self.skipped.items())
        few = f"; {few}" if few else ""
        if self.threshold is None:
            return f"u* threshold: no estimate from {self.records} night records (seasons: {each or 'none'}{few})"
        return (f"u* threshold {self.threshold:.3f} m s-1 (5-95 % {self.low:.3f}-{self.high:.3f}), estimated by the "
                f"moving-point test: the median over {BOOTSTRAP} bootstrap resamples (seed {SEED}) of the largest "
                f"season's threshold (seasons' medians: {each}{few}; {self.records} night records)")


def class_threshold(ustar: np.ndarray, flux: np.ndarray) -> float | None:
    """The threshold in one temperature class (see the module's text), or None."""
    order = np.argsort(ustar, kind="mergesort")
    ustar, flux = ustar[order], flux[order]
    bins = np.array_split(np.arange(len(ustar)), USTAR_CLASSES)
    means = np.array([flux[b].mean() for b in bins])
    centres = np.array([ustar[b].mean() for b in bins])
    for i in range(USTAR_CLASSES - 1):
        following = means[i + 1:i + 1 + FOLLOWING]
        plateau = following.mean()
        if plateau > 0 and means[i] >= PLATEAU * plateau:
            return float(centres[i])
    return None


def _season_threshold(ustar: np.ndarray, flux: np.ndarray, temp: np.ndarray) -> float | None:
    """The median over temperature classes in one season (u*, flux, temperature of equal length)."""
    order = np.argsort(temp, kind="mergesort")
    found = []
    for rows in np.array_split(order, TEMPERATURE_CLASSES):
        u, t = ustar[rows], temp[rows]
        if np.std(u) == 0 or np.std(t) == 0 or abs(np.corrcoef(u, t)[0, 1]) >= MAX_CORRELATION:
            continue
        value = class_threshold(u, flux[rows])
        if value is not None:
            found.append(value)
    return float(np.median(found)) if found else None


def _median(values: list) -> float | None:
    found = [v for v in values if v is not None]
    return float(np.median(found)) if found else None


def estimate_threshold(ustar: pd.Series, flux: pd.Series, temp: pd.Series, time: pd.Series) -> UstarEstimate:
    """The moving-point estimate from night records (u* in m s-1, flux in umol m-2 s-1, air
    temperature in degC, midpoint times); records lacking any of them are not used."""
    valid = (ustar.notna() & flux.notna() & temp.notna() & time.notna()).to_numpy()
    u, f, t = (s.to_numpy(dtype=float)[valid] for s in (ustar, flux, temp))
    seasons = time[valid].dt.month.map(SEASONS).to_numpy()
    rows, skipped = {}, {}
    for season in dict.fromkeys(SEASONS.values()):
        where = np.flatnonzero(seasons == season)
        if len(where) >= MIN_RECORDS * TEMPERATURE_CLASSES:
            rows[season] = where
        elif len(where):
            skipped[season] = len(where)
    rng = np.random.default_rng(SEED)
    per_season = {season: [] for season in rows}
    annual = []
    for _ in range(BOOTSTRAP if rows else 0):
        values = []
        for season, where in rows.items():
            pick = rng.choice(where, size=len(where), replace=True)
            values.append(_season_threshold(u[pick], f[pick], t[pick]))
            per_season[season].append(values[-1])
        found = [v for v in values if v is not None]
        if found:
            annual.append(max(found))
    seasons_out = {season: _median(v) for season, v in per_season.items()}
    if not annual:
        return UstarEstimate(None, seasons_out, int(valid.sum()), skipped=skipped)
    low, high = np.percentile(annual, [5, 95])
    return UstarEstimate(float(np.median(annual)), seasons_out, int(valid.sum()), float(low), float(high), skipped)


__all__ = ["BOOTSTRAP", "MIN_RECORDS", "SEED", "TEMPERATURE_CLASSES", "UstarEstimate", "class_threshold",
           "estimate_threshold"]
