"""Synthetic twins of a user's data: the same sites, covariates, forcing and missing values, with
a parameter field that is known because it was drawn, and observations that the mechanistic
model makes from it with noise like the fitted residuals.

A neural parameter's twin field is, on the unit scale between its bounds (logit-transformed),
centred where the fitted members put it and as spread as they spread it (at least
:data:`MIN_SPREAD`, at most :data:`MAX_SPREAD`). Its pattern is either

- ``random``: a random smooth function (a small tanh network with random weights) of all the
  covariates, so the truth owes nothing to the fit. Covariates share their environmental
  gradients, so a random direction through them follows those gradients, as soil properties do
  (a first design used 4 covariates picked at random; see docs/identifiability.md); or
- ``fitted``: the members' mean field itself.

A global parameter keeps its fitted value (the members' mean): the twin mirrors the fitted model,
so the neural parameters are checked where the user's fit lives. (A first design moved each
global value 0.1-0.25 of its range away; the neural parameters then absorbed the wrong rates and
their twin recovery said more about the shift than about the data: docs/identifiability.md.)
See docs/identifiability.md.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from core.datasets import TRUE_PREFIX, HybridData
from core.metrics import unit_position
from core.run.plan import RunPlan

TWIN_KINDS = ("random", "fitted")
#: the least and most sd of a twin field on the unit scale (a flat fitted field still gets a pattern)
MIN_SPREAD, MAX_SPREAD = 0.05, 0.25
#: hidden units of a random twin field's function
FIELD_UNITS = 8
#: unit positions a twin value stays within (off the bounds, where the sigmoid saturates)
EDGE = 0.03


def _standardised(data: HybridData) -> np.ndarray:
    """The predictors as (rows, p) z-scores; missing values and constant columns are 0."""
    values = data.frame[data.predictors].to_numpy(dtype=float)
    mean, sd = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    sd[~(sd > 0)] = 1.0
    return np.nan_to_num((values - mean) / sd)


def _z(values: np.ndarray) -> np.ndarray:
    sd = np.std(values)
    return (values - values.mean()) / sd if sd > 0 else np.zeros_like(values)


def random_field(covariates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A standardised random smooth function of the covariates, (rows, p) -> (rows,): hidden units
    tanh(z(x w_j) + b_j) along random directions w_j through all of them."""
    directions = covariates @ rng.normal(0, 1, (covariates.shape[1], FIELD_UNITS))
    directions = (directions - directions.mean(axis=0)) / np.where(directions.std(axis=0) > 0, directions.std(axis=0), 1)
    hidden = np.tanh(directions + rng.normal(0, 0.5, FIELD_UNITS))
    return _z(hidden @ rng.normal(0, 1, FIELD_UNITS))


def _logit(u):
    return np.log(u / (1 - u))


def _from_unit(units: np.ndarray, parameter) -> np.ndarray:
    return parameter.from_unit(torch.as_tensor(units, dtype=torch.float64)).numpy()


def neural_truth(fitted_units: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Twin unit positions (rows,): the standardised ``pattern`` laid around the fitted field's
    centre with its spread, on the logit scale so that the field stays inside the bounds."""
    centre = float(np.clip(np.mean(fitted_units), EDGE, 1 - EDGE))
    spread = float(np.clip(np.std(fitted_units), MIN_SPREAD, MAX_SPREAD))
    logit_sd = spread / (centre * (1 - centre))  # the delta method: du = u(1-u) dlogit
    units = 1 / (1 + np.exp(-(_logit(centre) + logit_sd * pattern)))
    return np.clip(units, EDGE, 1 - EDGE)


def twin_parameters(parameter_set, fitted: dict[str, np.ndarray], data: HybridData, kind: str,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Twin truth, name -> (rows,) values in the parameter's units, for each learned parameter.

    fitted: name -> (members, rows) values of the members that fit (in units)."""
    covariates = _standardised(data) if kind == "random" else None
    truth = {}
    for parameter in parameter_set:
        if parameter.role not in ("neural", "global") or parameter.name not in fitted:
            continue
        units = np.clip(unit_position(fitted[parameter.name], parameter), 1e-6, 1 - 1e-6)
        if parameter.role == "global":
            value = _from_unit(np.array([float(np.mean(units[:, 0]))]), parameter)[0]
            truth[parameter.name] = np.full(units.shape[1], value)
            continue
        mean_field = units.mean(axis=0)
        pattern = random_field(covariates, rng) if kind == "random" else _z(_logit(mean_field))
        truth[parameter.name] = _from_unit(neural_truth(mean_field, pattern), parameter)
    return truth


def mechanistic_outputs(plan: RunPlan, data: HybridData, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model's targets (rows,) on every row of ``data`` for parameter values name -> (rows,)
    (fixed parameters take the plan's values)."""
    spec, parameter_set = plan.spec, plan.parameter_set()
    forcing, targets = spec.variables(data, plan.targets)
    model = spec.build(predictors=data.predictors, forcing=forcing, targets=targets, parameters=parameter_set,
                       network=plan.network, options=plan.options)
    rows = len(data.frame)
    kwargs = {name: torch.tensor(data.frame[data.forcing[name]].to_numpy(dtype=float)) for name in forcing}
    for parameter in parameter_set:
        value = values.get(parameter.name)
        value = np.full(rows, parameter.fixed_value) if value is None else np.broadcast_to(value, (rows,))
        kwargs[parameter.name] = torch.tensor(np.array(value, dtype=float))
    with torch.no_grad():
        outputs = model.function(**kwargs, **model.function_options)
    return {target: outputs[target].expand(rows).numpy().astype(float) for target in targets}


def noise_model(observed: np.ndarray, predicted: np.ndarray, nonnegative: bool) -> dict:
    """The residual noise of one target, {"kind": "relative" | "absolute", "sd"}: log-normal
    (sd of log(observed / predicted)) where the target is non-negative, both are positive and
    that is more likely than a normal noise of constant sd; else absolute."""
    known = np.isfinite(observed) & np.isfinite(predicted)
    observed, predicted = observed[known], predicted[known]
    if len(observed) < 2:
        return {"kind": "absolute", "sd": 0.0}
    residual = observed - predicted
    absolute_sd = float(np.sqrt(np.mean(residual ** 2)))
    absolute = {"kind": "absolute", "sd": absolute_sd}
    if not nonnegative or not (np.all(observed > 0) and np.all(predicted > 0)):
        return absolute
    log_ratio = np.log(observed / predicted)
    relative_sd = float(np.sqrt(np.mean(log_ratio ** 2)))
    if not (relative_sd > 0 and absolute_sd > 0):
        return absolute
    # Gaussian log-likelihoods of the observations; the log-normal carries the Jacobian 1/observed
    log_absolute = -len(observed) * math.log(absolute_sd)
    log_relative = -len(observed) * math.log(relative_sd) - float(np.sum(np.log(observed)))
    return {"kind": "relative", "sd": relative_sd} if log_relative > log_absolute else absolute


def add_noise(clean: np.ndarray, noise: dict, rng: np.random.Generator, floor: float | None = None) -> np.ndarray:
    """clean (rows,) with noise drawn from ``noise`` (:func:`noise_model`), cut at ``floor``."""
    if noise["kind"] == "relative":
        noisy = clean * np.exp(rng.normal(0, noise["sd"], clean.shape))
    else:
        noisy = clean + rng.normal(0, noise["sd"], clean.shape)
    return noisy if floor is None else np.maximum(noisy, floor)


def twin_table(data: HybridData, clean: dict[str, np.ndarray], noise: dict[str, dict], truth: dict[str, np.ndarray],
               rng: np.random.Generator, floors: dict[str, float] | None = None) -> pd.DataFrame:
    """The twin's table: the user's columns as they are (a split column too), each fitted target
    column replaced by the model's output with noise (missing where the user's is missing; cut
    at ``floors[target]`` for a target that cannot be negative), and ``true_<parameter>``
    columns in place of any the data carried."""
    table = data.frame[[c for c in data.frame.columns if not c.startswith(TRUE_PREFIX)]].copy()
    for target, column in data.targets.items():
        if target not in clean:
            continue
        values = add_noise(clean[target], noise[target], rng, (floors or {}).get(target))
        table[column] = np.where(np.isfinite(data.frame[column].to_numpy(dtype=float)), values, np.nan)
    for name, values in truth.items():
        table[TRUE_PREFIX + name] = values
    return table


def column_map(data: HybridData, targets) -> dict:
    """The twin file's column map: the data's own roles, for the targets the run fits."""
    return {"id": data.id, "predictors": list(data.predictors), "forcing": dict(data.forcing),
            "targets": {t: data.targets[t] for t in targets}}
