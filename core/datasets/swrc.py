"""Synthetic soil water retention data like the report's Danish set (built-in name ``swrc-synthetic``).

About 400 profiles with 1–5 horizons (about 1,200 horizons), 8–12 measured (h, theta) pairs per
horizon from pF 0 to pF 6, in long format (one row per pair). The true Lebeau–Konrad parameters
follow soil properties: theta_s follows porosity (1 - bd / 2.65), and bd falls with organic
carbon, so bd carries part of the effect of oc; h_m and sigma follow texture; theta_o follows
clay and oc. Measurement noise 0.01 m³ m⁻³. Splits group by ``profile_id``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from core.datasets.registry import DataSourceSpec

TRUE_PARAMS = ("theta_s", "h_m", "sigma", "theta_o")
PF_GRID = np.array([0.0, 0.5, 1.0, 1.5, 1.8, 2.0, 2.5, 3.0, 3.5, 4.2, 5.0, 6.0])
NOISE = 0.01
#: profiles when no number is given
N_PROFILES = 400

COLUMNS = {
    "profile_id": ("-", "soil profile (splits group by it)"),
    "sample_id": ("-", "horizon sample"),
    "depth_cm": ("cm", "mid depth of the horizon (not a predictor by default)"),
    "clay": ("%", "clay content (predictor)"),
    "silt": ("%", "silt content (predictor)"),
    "sand": ("%", "sand content (predictor)"),
    "oc": ("weight %", "organic carbon (predictor)"),
    "bd": ("g cm⁻³", "bulk density (predictor in the second run)"),
    "h_cm": ("cm", "suction (forcing); pF = log10 h"),
    "theta": ("m³ m⁻³", "measured volumetric water content, noise 0.01 (target)"),
    "true_theta_s": ("m³ m⁻³", "true saturated water content"),
    "true_h_m": ("cm", "true suction at the median pore radius"),
    "true_sigma": ("-", "true standard deviation of log pore radius"),
    "true_theta_o": ("m³ m⁻³", "true adsorbed water content parameter"),
}


def generate(n_profiles: int = N_PROFILES, seed: int = 0) -> pd.DataFrame:
    """Long-format retention data; deterministic for (n_profiles, seed)."""
    from core.models.swrc import lebeau_konrad

    rng = np.random.default_rng(seed)
    n_hor = rng.integers(1, 6, n_profiles)
    prof = np.repeat(np.arange(n_profiles), n_hor)
    k = np.concatenate([np.arange(m) for m in n_hor])             # horizon index from the top
    n = len(prof)
    clay = np.clip((3 + 35 * rng.beta(1.5, 4, n_profiles))[prof] + rng.normal(0, 2, n) + 1.5 * k, 1, 60)
    silt = np.clip((5 + 30 * rng.beta(2, 4, n_profiles))[prof] + rng.normal(0, 3, n), 2, 60)
    sand = 100 - clay - silt
    oc = np.clip((2.0 * np.exp(rng.normal(0, 0.5, n_profiles)))[prof] * 0.45 ** k * np.exp(rng.normal(0, 0.2, n)),
                 0.05, 12)
    bd = np.clip(1.72 - 0.11 * oc - 0.002 * clay + 0.04 * k + rng.normal(0, 0.05, n), 0.8, 1.85)
    true = {
        "theta_s": np.clip(0.95 * (1 - bd / 2.65) + rng.normal(0, 0.01, n), 0.26, 0.74),
        "h_m": 10 ** (1.3 + 0.035 * clay + 0.006 * silt + rng.normal(0, 0.1, n)),
        "sigma": 1.0 + 0.035 * clay + 0.01 * silt + 0.05 * oc + rng.normal(0, 0.08, n),
        "theta_o": np.clip(0.01 + 0.004 * clay + 0.008 * oc + rng.normal(0, 0.005, n), 0.002, 0.28),
    }
    rows = []
    for i in range(n):
        m = rng.integers(8, 13)
        inner = np.sort(rng.choice(np.arange(1, len(PF_GRID) - 1), m - 2, replace=False))
        pf = PF_GRID[np.r_[0, inner, len(PF_GRID) - 1]] + np.r_[0, rng.normal(0, 0.05, m - 2), 0]
        rows.append(np.column_stack([np.full(m, i), 10 ** pf]))
    pairs = np.concatenate(rows)
    s = pairs[:, 0].astype(int)
    h = pairs[:, 1]
    theta = lebeau_konrad(torch.tensor(h), *(torch.tensor(true[p][s]) for p in TRUE_PARAMS))["theta"].numpy()
    theta = np.clip(theta + rng.normal(0, NOISE, len(h)), 0, None)
    return pd.DataFrame({
        "profile_id": prof[s], "sample_id": s, "depth_cm": (10 + 25 * k)[s],
        "clay": clay[s], "silt": silt[s], "sand": sand[s], "oc": oc[s], "bd": bd[s],
        "h_cm": h, "theta": theta, **{f"true_{p}": true[p][s] for p in TRUE_PARAMS},
    })


def load(n: int | None = None, seed: int = 0):
    """The data set with the report's first predictor set (clay, silt, sand, oc); ``n`` profiles."""
    from core.datasets.base import HybridData

    frame = generate(n_profiles=n or N_PROFILES, seed=seed)
    return HybridData(frame, id="profile_id", predictors=["clay", "silt", "sand", "oc"],
                      forcing={"h": "h_cm"}, targets={"theta": "theta"},
                      source={"name": "swrc-synthetic", "n": n, "seed": seed})


DATA = DataSourceSpec(name="swrc-synthetic", kind="builtin", description=__doc__, load=load, rank=3, columns=COLUMNS,
                      sites=N_PROFILES, sample_sites=30)
