"""Synthetic ecosystem-respiration data with a known truth (built-in name ``respiration-synthetic``).

The classic first hybrid example: R = Rb(x) * Q10 ** ((T - 15) / 10). Rb varies with soil
moisture and soil nitrogen (so a network must learn it), Q10 is one global value (1.5).
Temperature is forcing only, never a predictor: otherwise the network could absorb the
temperature response into Rb and Q10 would not be identifiable.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.datasets.registry import DataSourceSpec

TRUE_Q10 = 1.5
T_REF = 15.0
#: sites when no number is given
N_SITES = 200

#: column -> (unit, meaning); also the source of data/README.md
COLUMNS = {
    "site_id": ("-", "site identifier (splits group by it)"),
    "day": ("day of year", "observation day"),
    "temp": ("°C", "air temperature (forcing)"),
    "moisture": ("m³ m⁻³", "soil moisture (predictor)"),
    "soil_n": ("g kg⁻¹", "soil nitrogen content (predictor, per site)"),
    "clay": ("%", "clay content (predictor, per site; no effect on Rb)"),
    "elev": ("m", "elevation (predictor, per site; no effect on Rb)"),
    "reco": ("µmol m⁻² s⁻¹", "ecosystem respiration, 5 % log-normal noise, 5 % missing (target)"),
    "true_rb": ("µmol m⁻² s⁻¹", "true base respiration at 15 °C"),
    "true_q10": ("-", "true temperature sensitivity (1.5 everywhere)"),
}


def generate(n_sites: int = N_SITES, days_per_site: int = 40, seed: int = 0) -> pd.DataFrame:
    """One row per (site, day); deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n = n_sites * days_per_site
    site = np.repeat(np.arange(n_sites), days_per_site)
    soil_n = rng.uniform(0.5, 3.0, n_sites)[site]
    clay = rng.uniform(5, 45, n_sites)[site]
    elev = rng.uniform(0, 1500, n_sites)[site]
    wet = rng.uniform(0.1, 0.4, n_sites)[site]
    t_mean = rng.uniform(2, 16, n_sites)[site]
    day = rng.integers(1, 366, n)
    season = np.sin(2 * np.pi * (day - 110) / 365)
    temp = t_mean + 10 * season + rng.normal(0, 2, n)
    moisture = np.clip(wet - 0.08 * season + rng.normal(0, 0.04, n), 0.03, 0.5)
    rb = 0.5 + 12 * moisture * (soil_n / 3.0) ** 0.7
    reco = rb * TRUE_Q10 ** ((temp - T_REF) / 10) * np.exp(rng.normal(0, 0.05, n))
    reco[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "site_id": site, "day": day, "temp": temp, "moisture": moisture, "soil_n": soil_n,
        "clay": clay, "elev": elev, "reco": reco, "true_rb": rb, "true_q10": np.full(n, TRUE_Q10),
    })


def load(n: int | None = None, seed: int = 0):
    """The data set with its column roles; ``n`` is the number of sites (default :data:`N_SITES`)."""
    from core.datasets.base import HybridData

    frame = generate(n_sites=n or N_SITES, seed=seed)
    return HybridData(frame, id="site_id", predictors=["moisture", "soil_n", "clay", "elev"],
                      forcing={"temp": "temp"}, targets={"reco": "reco"},
                      source={"name": "respiration-synthetic", "n": n, "seed": seed})


DATA = DataSourceSpec(name="respiration-synthetic", kind="builtin", description=__doc__, load=load, rank=1, columns=COLUMNS,
                      sites=N_SITES, sample_sites=10)
