"""The interval scores of a calibrated run row by row: each row's CRPS and whether its interval
covers the observation at several levels. The means of :func:`core.uncertainty.predictive.interval_scores`
are over a whole split; these let a caller score any group of rows (a DI bin, the inside of the
area of applicability, a land-cover class) with the run's own calibration.

Per target with a calibration.json entry: the CRPS of the predictive normal N(mu, s² + sigma²)
(``scoringrules.crps_normal``, target units, the same distribution as the split's mean CRPS) and,
at each level, the interval of :func:`core.uncertainty.calibration.target_bounds`.
"""
from __future__ import annotations

import math

import numpy as np

from core.uncertainty.calibration import MC_PASSES, entry_predictive, prediction_samples, target_bounds
from core.uncertainty.registry import RELIABILITY_LEVELS
from core.training.tensors import Tensors


def _levels_within(entry: dict, levels) -> list[float]:
    """The levels a target's calibration scores can give a finite conformal interval at."""
    n = len(entry["scores"])
    return [level for level in levels if math.ceil((n + 1) * level) <= n]


def row_scores(model, tensors: Tensors, targets: list[str], calibration: dict, levels=RELIABILITY_LEVELS) -> dict:
    """Each row's CRPS and coverage, per calibrated target.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (a single run's or an ensemble's stack), on the CPU.
    tensors : Tensors
        The rows to score; observations in ``tensors.y`` (n, T), NaN where missing.
    targets : list of str
        The model's targets, in the column order of ``tensors.y``.
    calibration : dict
        The run's calibration.json (:func:`core.uncertainty.calibration.calibrate_run`).
    levels : sequence of float
        Nominal levels of the intervals whose coverage is recorded.

    Returns
    -------
    dict
        target -> ``crps`` (n,) (NaN where the observation is missing) and ``covered``: level ->
        (n,) bool (False where it is missing). Targets without an interval are left out; levels a
        target has too few calibration observations for are left out of its ``covered``.
    """
    centre, samples = prediction_samples(model, tensors, calibration["source"], calibration.get("passes") or MC_PASSES,
                                         calibration.get("seed", 0))
    observed = tensors.y.double().cpu().numpy()
    result = {}
    for j, target in enumerate(targets):
        entry = calibration["targets"].get(target, {})
        if not entry.get("calibrated"):
            continue
        predictive = entry_predictive(entry, centre[:, j], samples[:, :, j])
        y = observed[:, j]
        known = np.isfinite(y)
        crps = np.full(len(y), np.nan)
        if known.any():
            import scoringrules

            scale = np.maximum(predictive.scale(entry["noise_sd"]), 1e-12)
            crps[known] = scoringrules.crps_normal(y[known], predictive.centre[known], scale[known])
        covered = {}
        for level in _levels_within(entry, levels):
            lower, upper = target_bounds(entry, predictive, level, target)
            covered[level] = known & (np.nan_to_num(y) >= lower) & (np.nan_to_num(y) <= upper)
        result[target] = {"crps": crps, "covered": covered}
    return result


__all__ = ["row_scores"]
