"""Goodness-of-fit metrics with missing observations (NaN) masked out.

One implementation on torch tensors serves training (batched over targets, differentiable) and
evaluation; numpy inputs are converted to float64 tensors first.

Shapes: ``obs`` and ``pred`` are (n,) or (n, T) for T targets; masked statistics are per column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

# Keeps sqrt differentiable when a prediction has no spread (e.g. an all-global model).
_EPS = 1e-12


def _as_2d(obs, pred) -> tuple[torch.Tensor, torch.Tensor, bool]:
    if not isinstance(obs, torch.Tensor):
        obs = torch.as_tensor(np.asarray(obs, dtype=np.float64))
    if not isinstance(pred, torch.Tensor):
        pred = torch.as_tensor(np.asarray(pred, dtype=np.float64), dtype=obs.dtype)
    if obs.shape != pred.shape:
        raise ValueError(f"obs and pred differ in shape: {tuple(obs.shape)} vs {tuple(pred.shape)}")
    squeeze = obs.dim() == 1
    if squeeze:
        obs, pred = obs[:, None], pred[:, None]
    return obs, pred, squeeze


def masked_moments(obs: torch.Tensor, pred: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-column count, means, variances, covariance and squared error over the rows where the
    observation is finite. A non-finite prediction on such a row is not dropped: it makes the
    column's statistics non-finite, so that a model predicting NaN fails instead of scoring well.

    obs, pred: (n, T). Returns tensors of shape (T,). Population (ddof=0) moments.
    """
    mask = torch.isfinite(obs)
    m = mask.to(pred.dtype)
    o = torch.where(mask, obs, torch.zeros((), dtype=obs.dtype, device=obs.device))
    p = torch.where(mask, pred, torch.zeros((), dtype=pred.dtype, device=pred.device))
    n = m.sum(0)
    n_safe = n.clamp(min=1.0)
    mo = o.sum(0) / n_safe
    mp = p.sum(0) / n_safe
    do = (o - mo) * m
    dp = (p - mp) * m
    return {
        "n": n,
        "mean_obs": mo,
        "mean_pred": mp,
        "var_obs": (do * do).sum(0) / n_safe,
        "var_pred": (dp * dp).sum(0) / n_safe,
        "cov": (do * dp).sum(0) / n_safe,
        "sse": (((o - p) * m) ** 2).sum(0),
    }


def kge_parts(mom: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """KGE and its parts from :func:`masked_moments`: r (correlation), alpha (sd ratio), beta (mean ratio)."""
    sd_o = torch.sqrt(mom["var_obs"] + _EPS)
    sd_p = torch.sqrt(mom["var_pred"] + _EPS)
    r = mom["cov"] / (sd_o * sd_p)
    alpha = sd_p / sd_o
    beta = mom["mean_pred"] / mom["mean_obs"]
    kge = 1.0 - torch.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)
    return {"kge": kge, "r": r, "alpha": alpha, "beta": beta}


def nse_from(mom: dict[str, torch.Tensor]) -> torch.Tensor:
    """Nash–Sutcliffe efficiency 1 - SSE / SS_obs, shape (T,)."""
    return 1.0 - mom["sse"] / (mom["var_obs"] * mom["n"] + _EPS)


def all_metrics(obs, pred) -> list[dict[str, float]]:
    """KGE, r, alpha, beta, NSE, RMSE, n (observed rows) and n_nonfinite (observed rows whose
    prediction is NaN or infinite; any makes the metrics NaN) for each column; NaN where fewer
    than 2 observations."""
    obs, pred, _ = _as_2d(obs, pred)
    nonfinite = (torch.isfinite(obs) & ~torch.isfinite(pred)).sum(0)
    with torch.no_grad():
        mom = masked_moments(obs.double(), pred.double())
        parts = kge_parts(mom)
        nse = nse_from(mom)
        rmse = torch.sqrt(mom["sse"] / mom["n"].clamp(min=1))
    out = []
    for j in range(obs.shape[1]):
        n = int(mom["n"][j])
        row = {k: float(v[j]) if n >= 2 else math.nan for k, v in parts.items()}
        row["nse"] = float(nse[j]) if n >= 2 else math.nan
        row["rmse"] = float(rmse[j]) if n >= 1 else math.nan
        row["n"] = n
        row["n_nonfinite"] = int(nonfinite[j])
        out.append(row)
    return out


def kge(obs, pred) -> dict[str, float]:
    """Kling–Gupta efficiency of one series: ``{"kge", "r", "alpha", "beta"}``.

    obs, pred: 1-D numpy arrays, lists or tensors of the same length; pairs where either is NaN
    are ignored. KGE = 1 - sqrt((r-1)^2 + (alpha-1)^2 + (beta-1)^2), alpha = sd_pred / sd_obs,
    beta = mean_pred / mean_obs. Predicting the observed mean gives 1 - sqrt(2).
    """
    row = all_metrics(obs, pred)[0]
    return {k: row[k] for k in ("kge", "r", "alpha", "beta")}


def nse(obs, pred) -> float:
    """Nash–Sutcliffe efficiency of one series, NaN pairs ignored."""
    return all_metrics(obs, pred)[0]["nse"]


def rmse(obs, pred) -> float:
    """Root mean squared error of one series, NaN pairs ignored (units of obs)."""
    return all_metrics(obs, pred)[0]["rmse"]


# --- helpers on plain arrays (evaluation, identifiability, figures and reports share them) ---

#: a neural parameter counts as "at a bound" within this share of its range from either end
AT_BOUND = 0.01
#: the smallest positive value taken before a log (a parameter bounded at 0 may sit on its bound)
TINY = 1e-12


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two (n,) arrays; NaN when either has fewer than 2 values or no spread."""
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and np.std(a) > 0 and np.std(b) > 0 else math.nan


def unit_position(values: np.ndarray, parameter) -> np.ndarray:
    """Where values sit between a parameter's bounds: 0 at the lower and 1 at the upper bound, on
    the parameter's scale. parameter: anything with ``lower``, ``upper`` and ``scale`` ("log" or
    "linear"). Same shape as ``values``."""
    values = np.asarray(values, dtype=float)
    if parameter.scale == "log":
        low, high = math.log(parameter.lower), math.log(parameter.upper)
        return (np.log(values) - low) / (high - low)
    return (values - parameter.lower) / (parameter.upper - parameter.lower)


def share_at_bound(values: np.ndarray, parameter) -> float:
    """Share of values within :data:`AT_BOUND` of the range from either bound (NaN for none).

    Parameters
    ----------
    values : numpy.ndarray, shape (n,)
        A parameter's values in its units.
    parameter : Parameter
        Anything with ``lower``, ``upper`` and ``scale``.

    Returns
    -------
    float
        The share in [0, 1].
    """
    position = unit_position(values, parameter)
    return float(np.mean((position < AT_BOUND) | (position > 1 - AT_BOUND))) if len(position) else math.nan


def log_combination(columns, parts, prefix: str = "") -> np.ndarray:
    """log of a product of powers of parameters: sum of power * log(column ``prefix + name``).
    columns: a table or name -> array (any shape, all alike); parts: (name, power) pairs."""
    return sum(power * np.log(np.maximum(np.asarray(columns[f"{prefix}{name}"], dtype=float), TINY))
               for name, power in parts)


@dataclass(frozen=True)
class Spread:
    """How a set of repeated values spreads (seeds, folds, sessions): count, mean, sample sd
    (ddof=1; 0 for one value), median, 95th percentile (nearest rank) and maximum; None where
    there are no values."""

    n: int
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    p95: float | None = None
    max: float | None = None

    def as_dict(self, *names: str) -> dict:
        """The named fields (all if none) as a dict."""
        return {name: getattr(self, name) for name in (names or ("n", "mean", "sd", "median", "p95", "max"))}


def spread(values) -> Spread:
    """The :class:`Spread` of the finite values among ``values`` (None and NaN are left out)."""
    finite = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(finite):
        return Spread(0)
    ordered = np.sort(finite)
    return Spread(n=int(len(finite)), mean=float(finite.mean()),
                  sd=float(finite.std(ddof=1)) if len(finite) > 1 else 0.0, median=float(np.median(finite)),
                  p95=float(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]),
                  max=float(ordered[-1]))
