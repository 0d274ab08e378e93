"""Synthetic SOC data sets with a known truth, built to check identifiability verdicts on data the
code was not tuned on. They are not built-in sets and no training default uses them; they are
written as user files (own column names, a column map) by ``hybridlab data truth-sets``.

The sites, covariates and forcing come from the LUCAS-like generator
(:func:`core.datasets.lucas.generate`); each set replaces the true parameter fields and remakes
the observations from the SOC model's steady state, so the structure differs from the built-in set:

- ``other-covariates``: every field depends on covariates that the built-in truth does not use
  (elevation, precipitation, slope, aridity, coarse fragments, a remote-sensing band);
- ``constant-forcing``: f_poc is constant (but trained as neural), cue follows NPP and v_max0
  follows temperature, both forcing of the model;
- ``sparse-moc``: fields with interactions of land use and soil, and MOC and POC observed at one
  site in ten.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from core.datasets import lucas
from core.datasets.registry import DataSourceSpec
from core.errors import DataError

SETS = ("other-covariates", "constant-forcing", "sparse-moc")
#: the user's own column names of each set's targets and forcing (the covariates keep theirs)
RENAME = {"site_id": "point_id", "soc": "OC_gkg", "moc": "MAOC_gkg", "poc": "POC_gkg", "mbc": "MBC_gkg",
          "temp": "MAT_C", "npp": "NPP_gCm2", "soil_mass": "fine_earth_kgm2"}


def _z(values) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return (values - values.mean()) / values.std()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _truth(name: str, table, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = len(table)
    wood, grass = table["lc_wood"].to_numpy(), table["lc_grass"].to_numpy()
    fine = (table["clay"].to_numpy() + table["silt"].to_numpy()) / 100
    if name == "other-covariates":
        return {"cue": 0.2 + 0.32 * _sigmoid(0.9 * _z(table["elev"]) - 0.6 * _z(table["map"])),
                "q_max": 12 + 48 * _sigmoid(1.2 * _z(table["rs_005"]) + 0.5 * _z(table["silt"])),
                "f_poc": 0.5 + 0.3 * _sigmoid(1.3 * _z(table["slope"])),
                "v_max0": 22 * np.exp(0.35 * _z(table["aridity"])),
                "k_m0": 45 * np.exp(0.3 * _z(table["cf"]) - 0.2 * _z(table["srad"]))}
    if name == "constant-forcing":
        return {"cue": 0.2 + 0.32 * _sigmoid(1.1 * _z(table["npp"])),
                "q_max": 10 + 60 * fine ** 1.3 * np.exp(rng.normal(0, 0.06, n)),
                "f_poc": np.full(n, 0.7),
                "v_max0": 24 * np.exp(0.3 * _z(table["temp"]) + 0.1 * _z(table["ph"])),
                "k_m0": 40 * np.exp(0.3 * _z(table["ph"]))}
    if name == "sparse-moc":
        z_ph = _z(table["ph"])
        return {"cue": 0.2 + 0.32 * _sigmoid(0.8 * z_ph * (1 + grass) - 0.5 * wood),
                "q_max": (10 + 55 * fine ** 1.2) * (1 + 0.35 * wood - 0.2 * grass),
                "f_poc": np.clip(0.6 + 0.15 * wood * _sigmoid(_z(table["map"])) + 0.03 * rng.normal(0, 1, n), 0.3, 0.92),
                "v_max0": 24 * np.exp(0.25 * z_ph - 0.25 * _z(table["clay"]) * (1 - wood)),
                "k_m0": 40 * np.exp(0.3 * _z(table["clay"]) * z_ph)}
    raise DataError(f"unknown truth set {name!r}; sets: {', '.join(SETS)}")


def generate(name: str, n_sites: int = 4000, seed: int = 0):
    """One set as (table, column map); deterministic for (name, n_sites, seed)."""
    from core.models.soc import DEFAULTS, steady_state

    rng = np.random.default_rng([seed, SETS.index(name) if name in SETS else 99])
    table = lucas.generate(n_sites, seed).drop(columns=[f"true_{p}" for p in lucas.TRUE_PARAMS])
    truth = _truth(name, table, rng)
    forcing = {k: torch.tensor(table[k].to_numpy(dtype=float)) for k in ("npp", "temp", "soil_mass")}
    params = {k: torch.as_tensor(np.broadcast_to(v, (n_sites,)).astype(float)) for k, v in {**DEFAULTS, **truth}.items()}
    state = steady_state(forcing["npp"], forcing["temp"], forcing["soil_mass"], **params)
    x_max = float(torch.maximum(state["x_d"], state["x_p"]).max())
    if x_max >= 0.9:
        raise RuntimeError(f"truth set {name}: true parameters infeasible at some site (max x = {x_max:.3f})")
    observed = ~np.isnan(table["moc"].to_numpy())
    if name == "sparse-moc":
        observed = rng.random(n_sites) < 0.1
    for target, sd in lucas.NOISE.items():
        values = state[target].numpy() * np.exp(rng.normal(0, sd, n_sites))
        known = ~np.isnan(table[target].to_numpy()) if target in ("soc", "mbc") else observed
        table[target] = np.where(known, values, np.nan)
    for parameter, values in truth.items():
        table[f"true_{parameter}"] = values
    table = table.rename(columns=RENAME)
    columns = {"id": RENAME["site_id"], "targets": {t: RENAME[t] for t in ("soc", "moc", "poc", "mbc")},
               "forcing": {f: RENAME[f] for f in ("npp", "temp", "soil_mass")}, "predictors": "*"}
    return table, columns


def write_truth_sets(folder: str | Path, n_sites: int = 4000, seed: int = 0, names=SETS) -> list[Path]:
    """Write ``<name>.parquet`` and ``<name>.columns.json`` for each set into folder; returns the tables' paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        table, columns = generate(name, n_sites, seed)
        path = folder / f"{name}.parquet"
        table.to_parquet(path, index=False)
        (folder / f"{name}.columns.json").write_text(json.dumps(columns, indent=2))
        paths.append(path)
    return paths


def _truth_source(name: str, description: str) -> DataSourceSpec:
    return DataSourceSpec(name=name, kind="truth", description=description,
                          load=lambda n=4000, seed=0: generate(name, n, seed), rank=SETS.index(name))


#: the truth sets in the data source registry (kind ``truth``): ``load(n, seed) -> (table, column map)``
DATA = (
    _truth_source("other-covariates", "Every field depends on covariates the built-in truth does not use."),
    _truth_source("constant-forcing", "f_poc constant (trained as neural); cue follows NPP, v_max0 temperature."),
    _truth_source("sparse-moc", "Fields with land-use and soil interactions; MOC and POC at one site in ten."),
)
