"""LUCAS-like synthetic topsoil data with a known truth (built-in name ``lucas-synthetic``).

Sites over Europe carry smooth latent fields (warmth, wetness, texture, productivity, lithology,
land use, nuisance). Forcing (temperature, NPP, soil mass) and 168 covariates derive from them;
the five spatially varying parameters of the SOC model (cue, q_max, f_poc, v_max0, k_m0) depend
on soil, vegetation and land use but not on temperature, which acts only through the model's
Q10 terms. Targets are the model's steady state with multiplicative log-normal noise. See
``data/README.md`` for every column. Generated data are cached (``HYBRIDLAB_CACHE``, default
``~/.cache/hybridlab``) and never committed.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from core.datasets.registry import DataSourceSpec

VERSION = 1
N_SITES = 16_743
N_MBC = 414
NOISE = {"soc": 0.10, "moc": 0.20, "poc": 0.20, "mbc": 0.30}
TRUE_PARAMS = ("cue", "q_max", "f_poc", "v_max0", "k_m0")
LATENT = ("warmth", "wetness", "texture", "productivity", "lithology", "landuse", "nuisance")
N_RS = 147  # remote-sensing-like columns; with 21 named covariates: 168

#: column -> (unit, meaning); the remote-sensing block is described once
COLUMNS = {
    "site_id": ("-", "site identifier"),
    "lat": ("°N", "latitude (covariate)"), "lon": ("°E", "longitude (covariate)"),
    "temp": ("°C", "mean annual air temperature (forcing)"),
    "npp": ("g C m⁻² yr⁻¹", "net primary production (forcing)"),
    "soil_mass": ("kg m⁻²", "fine-earth mass of 0–20 cm, 200 · bd · (1 − cf) (forcing)"),
    "mat": ("°C", "mean annual temperature from a climate grid: temp plus grid error (covariate)"),
    "map": ("mm yr⁻¹", "mean annual precipitation (covariate)"),
    "pet": ("mm yr⁻¹", "potential evapotranspiration (covariate)"),
    "aridity": ("-", "map / pet (covariate)"),
    "t_range": ("°C", "annual temperature range (covariate)"),
    "frost_days": ("d yr⁻¹", "days below 0 °C (covariate)"),
    "gdd": ("°C d", "growing degree days above 5 °C (covariate)"),
    "srad": ("MJ m⁻² d⁻¹", "mean solar radiation (covariate)"),
    "clay": ("%", "clay content, measured (covariate)"),
    "silt": ("%", "silt content, measured (covariate)"),
    "sand": ("%", "sand content, measured (covariate)"),
    "ph": ("-", "pH in water (covariate)"),
    "elev": ("m", "elevation (covariate)"),
    "slope": ("°", "terrain slope (covariate)"),
    "bd": ("g cm⁻³", "bulk density (covariate)"),
    "cf": ("-", "coarse fragment share (covariate)"),
    "lc_crop": ("0/1", "land use cropland (covariate)"),
    "lc_grass": ("0/1", "land use grassland (covariate)"),
    "lc_wood": ("0/1", "land use woodland (covariate)"),
    "rs_001 … rs_147": ("-", "remote-sensing-like bands and indices: noisy linear and non-linear mixes of the "
                        "latent fields, some pure noise (covariates)"),
    "soc": ("g C kg⁻¹", "soil organic carbon, 10 % noise, every site (target)"),
    "moc": ("g C kg⁻¹", "mineral-associated organic carbon, 20 % noise, about a third of sites (target)"),
    "poc": ("g C kg⁻¹", "particulate organic carbon, 20 % noise, same sites as moc (target)"),
    "mbc": ("g C kg⁻¹", "microbial biomass carbon, 30 % noise, 414 sites at the full size (target)"),
    "true_cue": ("-", "true carbon use efficiency"),
    "true_q_max": ("g C kg⁻¹", "true Langmuir MOC capacity"),
    "true_f_poc": ("-", "true share of litter entering POC"),
    "true_v_max0": ("yr⁻¹", "true depolymerisation rate at 15 °C"),
    "true_k_m0": ("g C kg⁻¹", "true half-saturation of depolymerisation"),
}


def _smooth_field(lat, lon, rng, length_deg: float, n_waves: int = 32) -> np.ndarray:
    """A smooth random field over (lat, lon) from random Fourier features, standardised."""
    w = rng.normal(0, 1.0 / length_deg, (n_waves, 2))
    phase = rng.uniform(0, 2 * np.pi, n_waves)
    amp = rng.normal(0, 1, n_waves)
    f = np.cos(np.outer(lat, w[:, 0]) + np.outer(lon, w[:, 1]) + phase) @ amp
    return (f - f.mean()) / f.std()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _z(x):
    return (x - x.mean()) / x.std()


def generate(n_sites: int = N_SITES, seed: int = 0) -> pd.DataFrame:
    """One row per site; deterministic for (n_sites, seed)."""
    from core.models.soc import DEFAULTS, steady_state

    rng = np.random.default_rng(seed)
    n = n_sites
    lat, lon = rng.uniform(35, 70, n), rng.uniform(-10, 30, n)
    lengths = {"warmth": 8, "wetness": 5, "texture": 3, "productivity": 4, "lithology": 3, "landuse": 2, "nuisance": 3}
    L = {k: _smooth_field(lat, lon, rng, lengths[k]) + 0.35 * rng.normal(0, 1, n) for k in LATENT}
    L = {k: _z(v) for k, v in L.items()}

    # climate and forcing
    temp = 18.0 - 0.46 * (lat - 35) + 1.4 * L["warmth"] + rng.normal(0, 0.4, n)
    map_ = np.clip(750 + 220 * L["wetness"] - 4 * (temp - 9) + rng.normal(0, 40, n), 250, None)
    pet = 450 + 28 * temp + rng.normal(0, 25, n)
    npp = np.clip(230 + 19 * temp + 80 * L["wetness"] + 95 * L["productivity"] + rng.normal(0, 25, n), 150, 1000)
    lu = L["landuse"] + 0.3 * L["productivity"]
    wood, grass = lu > 0.55, (lu > -0.45) & (lu <= 0.55)
    crop = ~(wood | grass)

    # soil
    clay = 5 + 40 * _sigmoid(1.3 * L["texture"] + 0.3 * rng.normal(0, 1, n))
    silt = 12 + 45 * _sigmoid(0.8 * L["texture"] + 0.7 * rng.normal(0, 1, n))
    sand = 100 - clay - silt
    ph = np.clip(6.3 + 0.9 * L["lithology"] - 0.45 * L["wetness"] - 0.3 * wood + rng.normal(0, 0.2, n), 3.8, 8.5)
    bd = np.clip(1.48 - 0.005 * clay - 0.12 * wood + rng.normal(0, 0.05, n), 0.9, 1.75)
    cf = np.clip(0.08 + 0.06 * L["nuisance"] + 0.04 * rng.normal(0, 1, n), 0, 0.5)
    soil_mass = 200 * bd * (1 - cf)
    elev = np.clip(350 + 300 * L["nuisance"] - 150 * L["warmth"] + rng.normal(0, 60, n), 0, 2500)

    # true parameters: soil, vegetation and land use; no temperature
    fine = (clay + silt) / 100
    z_ph, z_tex = _z(ph), _z(clay)
    true = {
        "q_max": 10 + 60 * fine ** 1.3 * np.exp(rng.normal(0, 0.06, n)),
        "cue": 0.18 + 0.36 * _sigmoid(0.9 * z_ph + 0.7 * grass - 0.2 * wood + 0.15 * rng.normal(0, 1, n)),
        "f_poc": np.clip(np.where(wood, 0.8, np.where(grass, 0.68, 0.55)) + rng.normal(0, 0.03, n), 0.3, 0.92),
        "v_max0": 24 * np.exp(0.3 * z_ph - 0.2 * z_tex + 0.05 * rng.normal(0, 1, n)),
        "k_m0": 40 * np.exp(0.25 * z_tex + 0.15 * z_ph + 0.05 * rng.normal(0, 1, n)),
    }
    params = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in {**DEFAULTS, **true}.items()}
    state = steady_state(torch.as_tensor(npp), torch.as_tensor(temp), torch.as_tensor(soil_mass), **params)
    x_max = float(torch.maximum(state["x_d"], state["x_p"]).max())
    if x_max >= 0.9:  # the truth must be feasible everywhere, with room below the soft limit
        raise RuntimeError(f"lucas-synthetic: true parameters infeasible at some site (max x = {x_max:.3f})")

    # observations: log-normal noise, missing like the real data
    obs = {}
    for t, sd in NOISE.items():
        obs[t] = state[t].numpy() * np.exp(rng.normal(0, sd, n))
    frac = rng.random(n) < 1 / 3
    obs["moc"][~frac] = np.nan
    obs["poc"][~frac] = np.nan
    n_mbc = max(2, round(N_MBC * n / N_SITES))
    keep = np.zeros(n, bool)
    keep[rng.choice(n, n_mbc, replace=False)] = True
    obs["mbc"][~keep] = np.nan

    cols = {
        "site_id": np.arange(n), "lat": lat, "lon": lon, "temp": temp, "npp": npp, "soil_mass": soil_mass,
        "mat": temp + rng.normal(0, 0.3, n), "map": map_, "pet": pet, "aridity": map_ / pet,
        "t_range": 14 + 0.2 * (lon + 10) - 0.8 * L["wetness"] + rng.normal(0, 1, n),
        "frost_days": np.clip(95 - 7 * temp + rng.normal(0, 8, n), 0, 250),
        "gdd": np.clip(365 * (temp - 5) + 900 + rng.normal(0, 150, n), 0, None),
        "srad": 20 - 0.25 * (lat - 35) + 0.6 * L["warmth"] + rng.normal(0, 0.5, n),
        "clay": np.clip(clay + rng.normal(0, 1.5, n), 0, None), "silt": np.clip(silt + rng.normal(0, 2.0, n), 0, None),
        "sand": np.clip(sand + rng.normal(0, 2.0, n), 0, None),
        "ph": ph + rng.normal(0, 0.1, n), "elev": elev, "slope": np.clip(2 + 0.008 * elev + rng.gamma(1.5, 1.5, n), 0, 45),
        "bd": bd + rng.normal(0, 0.03, n), "cf": cf,
        "lc_crop": crop.astype(float), "lc_grass": grass.astype(float), "lc_wood": wood.astype(float),
    }
    # remote-sensing-like block: mixes of the latent fields and land use with varying signal
    drivers = np.column_stack([L[k] for k in LATENT] + [wood, grass, _z(temp)]).astype(float)
    for j in range(N_RS):
        w = rng.normal(0, 1, drivers.shape[1]) * (rng.random(drivers.shape[1]) < 0.4)
        signal = drivers @ w
        if j % 3 == 1:
            signal = np.tanh(signal)
        elif j % 3 == 2:
            signal = signal ** 2 / 3
        snr = rng.uniform(0.0, 3.0) if j % 10 else 0.0  # every tenth band is pure noise
        cols[f"rs_{j + 1:03d}"] = snr * signal + rng.normal(0, 1, n)
    for t in NOISE:
        cols[t] = obs[t]
    for k in TRUE_PARAMS:
        cols[f"true_{k}"] = true[k]
    return pd.DataFrame(cols)


PREDICTORS_EXCLUDED = {"site_id", "temp", "npp", "soil_mass", *NOISE}


def cache_dir() -> Path:
    return Path(os.environ.get("HYBRIDLAB_CACHE", Path.home() / ".cache" / "hybridlab"))


def load(n: int | None = None, seed: int = 0):
    """The data set with its column roles, generated once per (n, seed) and cached as Parquet."""
    from core.datasets.base import HybridData

    n = n or N_SITES
    path = cache_dir() / f"lucas-synthetic-v{VERSION}-n{n}-seed{seed}.parquet"
    frame = None
    if path.is_file():
        try:
            frame = pd.read_parquet(path)
        except Exception:  # a broken cache file is regenerated, never trusted
            frame = None
    if frame is None:
        frame = generate(n, seed)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            frame.to_parquet(tmp, index=False)
            tmp.replace(path)
        except OSError:
            pass  # a read-only home still works, only slower
    predictors = [c for c in frame.columns if c not in PREDICTORS_EXCLUDED and not c.startswith("true_")]
    return HybridData(frame, id="site_id", predictors=predictors,
                      forcing={"npp": "npp", "temp": "temp", "soil_mass": "soil_mass"},
                      targets={t: t for t in NOISE},
                      source={"name": "lucas-synthetic", "n": n, "seed": seed})


DATA = DataSourceSpec(name="lucas-synthetic", kind="builtin", description=__doc__, load=load, rank=2, columns=COLUMNS,
                      sites=N_SITES, sample_sites=300)
