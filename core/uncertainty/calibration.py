"""Calibrated prediction intervals of a run: what ``calibration.json`` holds and how ``predict
--interval`` uses it. The math is :mod:`core.uncertainty.predictive`, the methods and sample sources
:mod:`core.uncertainty.registry`; the calibration sites are the split's
held-out share (``split.calibration``, :func:`core.training.splits.hold_out_calibration`).

Where the samples come from (``source``, one file each in ``sources/``): ``members`` (an ensemble
run's members), ``mc_dropout`` (one network sampled with dropout on, ``passes`` times) or ``none``
(one network without dropout: one width everywhere); a run takes the first that applies to it.

Per target, calibration.json keeps the noise sd (target units) and the sorted calibration scores
of :data:`METHOD`, so an interval at any level is one quantile away; a target with fewer than
:data:`MINIMUM_SITES` calibration observations is named, with the reason, and gets no interval.
It also holds what was measured on the validation sites: the 90 % interval's coverage, width and
CRPS, every method side by side for the members and for MC-dropout, and a reliability diagram.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from core.errors import HybridlabError
from core.hybrid.members import MemberModel
from core.training.loop import predict
from core.training.tensors import Tensors
from core.uncertainty.predictive import Predictive, conformal_quantile, interval_scores, noise_fit, noise_sd, pit
from core.uncertainty.registry import (IntervalMethod, bounds, interval_method, names, nonconformity, reliability,
                                       sample_source, source_for)
from core.uncertainty.sources.mc_dropout import dropout_samples, has_dropout

#: the method a run's intervals use (chosen by measurement: docs/uncertainty.md)
METHOD = "normalised"
#: the level reported in metrics.json and the experiment tables
REPORTED_LEVEL = 0.9
#: fewer calibration observations of a target than this: no interval for it
MINIMUM_SITES = 50
#: MC-dropout passes of one network
MC_PASSES = 30
#: a non-negative target may have a relative noise (a share of the predicted level); whether it
#: does is chosen per target by the likelihood on the calibration sites. False: always absolute
RELATIVE_NOISE = True
#: a relative noise scales by at least this share of the median predicted level
FLOOR_SHARE = 0.01


def prediction_samples(model, tensors: Tensors, source: str, passes: int = MC_PASSES, seed: int = 0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(centre (n, T), samples (S, n, T)) of a model on rows, from the registered sample ``source``
    (members, mc_dropout or none; members needs an ensemble)."""
    predictions = predict(model, tensors).predictions.double().numpy()
    return sample_source(source).draw(model, tensors, predictions, passes, seed)


def default_source(model) -> str:
    """The first registered sample source that applies: members for an ensemble, mc_dropout for one
    network with dropout, else none."""
    return source_for(model).name


def _clip(lower: np.ndarray, target: str, nonnegative) -> np.ndarray:
    return np.maximum(lower, 0.0) if target in nonnegative else lower


def entry_predictive(entry: dict, centre: np.ndarray, samples: np.ndarray) -> Predictive:
    """A target's Predictive with the noise model its calibration.json entry names."""
    relative = entry.get("noise_model") == "relative"
    return Predictive(centre, samples, relative, entry.get("noise_floor", 0.0) if relative else 0.0)


def target_bounds(entry: dict, predictive: Predictive, level: float, target: str) -> tuple:
    """(lower, upper) of one target's ``level`` interval from its calibration.json entry (the lower
    bound cut at 0 for a non-negative target)."""
    quantile = conformal_quantile(np.asarray(entry["scores"]), level)
    if not math.isfinite(quantile):
        needed = max(1, math.floor(level / (1 - level)) - 2)  # then the least n that conformal_quantile accepts
        while math.ceil((needed + 1) * level) > needed:
            needed += 1
        raise HybridlabError(f"target {target!r}: a {level:.15g} interval needs at least {needed:,} calibration "
                             f"observations of {target}, the run has {entry['n']:,} (rows of its calibration sites); "
                             f"choose a lower --interval or train with a larger --calibration")
    lower, upper = bounds(entry["method"], predictive, level, entry["noise_sd"], quantile)
    return _clip(lower, target, {target} if entry.get("nonnegative") else ()), upper


def check_level(level) -> float:
    """An interval level in [0.5, 1)."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.5 <= level < 1:
        raise HybridlabError(f"--interval must be a level in [0.5, 1), e.g. 0.9 for a 90 % interval; got {level!r}")
    return float(level)


def interval_columns(model, tensors: Tensors, targets: list[str], calibration: dict | None,
                     level: float) -> tuple[dict, list[str]]:
    """``<target>_lower`` and ``<target>_upper`` ((n,) each) of every calibrated target at ``level``,
    and one line per target that gets none (too few calibration sites)."""
    level = check_level(level)
    if calibration is None:
        what = "an ensemble" if isinstance(model, MemberModel) else "a one-member run"
        raise HybridlabError(f"--interval: this run ({what}) has no calibration sites; train it again with "
                             f"--calibration 0.15 (and --members 5 for intervals from an ensemble)")
    centre, samples = prediction_samples(model, tensors, calibration["source"], calibration.get("passes") or MC_PASSES,
                                         calibration.get("seed", 0))
    columns, notes = {}, []
    for j, target in enumerate(targets):
        entry = calibration["targets"].get(target, {})
        if not entry.get("calibrated"):
            notes.append(f"no interval for {target}: {entry.get('reason', 'not calibrated')}")
            continue
        predictive = entry_predictive(entry, centre[:, j], samples[:, :, j])
        lower, upper = target_bounds(entry, predictive, level, target)
        columns[f"{target}_lower"], columns[f"{target}_upper"] = lower, upper
    return columns, notes


def _fit(method: str, observed: np.ndarray, predictive: Predictive, level: float) -> tuple[float, float]:
    """(noise sd, conformal quantile or NaN) of a method on calibration rows."""
    spec = interval_method(method)
    noise = noise_sd(observed, predictive) if spec.noise else 0.0
    if not spec.conformal:
        return noise, math.nan
    return noise, conformal_quantile(nonconformity(method, observed, predictive, noise, level), level)


def _variants(predictive: Predictive, target: str, nonnegative) -> list[tuple[str, str, Predictive]]:
    """(name, method, predictive) of every method with an absolute noise and, for a non-negative
    target, the noise-model methods with a relative one as well (``<method>_relative``)."""
    absolute = Predictive(predictive.centre, predictive.samples)
    methods = [interval_method(name) for name in names(IntervalMethod)]
    variants = [(spec.name, spec.name, absolute) for spec in methods]
    if target in nonnegative:
        relative = Predictive(predictive.centre, predictive.samples, True, _floor(predictive.centre))
        variants += [(f"{spec.name}_relative", spec.name, relative) for spec in methods if spec.relative]
    return variants


def _compare(observed: np.ndarray, predictive: Predictive, calibration: np.ndarray, reported: dict, target: str,
             nonnegative) -> dict:
    """Every method at the reported level, calibrated on ``calibration`` rows, scored on each
    ``reported`` split (name -> rows)."""
    result = {}
    known = calibration[np.isfinite(observed[calibration])]
    for name, method, variant in _variants(predictive, target, nonnegative):
        noise, quantile = _fit(method, observed[known], variant.rows(known), REPORTED_LEVEL)
        lower, upper = bounds(method, variant, REPORTED_LEVEL, noise, quantile)
        lower = _clip(lower, target, nonnegative)
        result[name] = {split: interval_scores(observed[rows], lower[rows], upper[rows], variant.rows(rows), noise)
                        for split, rows in reported.items()}
    return result


def _floor(centre: np.ndarray) -> float:
    finite = np.abs(centre[np.isfinite(centre)])
    return float(FLOOR_SHARE * np.median(finite)) if len(finite) else 0.0


def _noise_model(observed: np.ndarray, part: Predictive, nonnegative: bool, floor: float) -> dict:
    """The noise model of a target: absolute, or for a non-negative target relative where that is
    more likely on the calibration rows (each model's negative log-likelihood per row is kept)."""
    sigma, nll = noise_fit(observed, Predictive(part.centre, part.samples))
    chosen = {"noise_model": "absolute", "noise_floor": 0.0, "noise_sd": sigma, "noise_nll": {"absolute": nll}}
    if RELATIVE_NOISE and nonnegative:
        relative_sigma, relative_nll = noise_fit(observed, Predictive(part.centre, part.samples, True, floor))
        chosen["noise_nll"]["relative"] = relative_nll
        if relative_nll < nll:
            chosen.update(noise_model="relative", noise_floor=floor, noise_sd=relative_sigma)
    return chosen


def _calibrate_target(target: str, observed: np.ndarray, predictive: Predictive, rows: dict, nonnegative) -> dict:
    """One target's calibration.json entry, its scores on the reported splits and its reliability."""
    known = rows["calibration"][np.isfinite(observed[rows["calibration"]])]
    if len(known) < MINIMUM_SITES:
        return {"calibrated": False, "n": int(len(known)),
                "reason": f"{len(known)} calibration observations, fewer than {MINIMUM_SITES}: no interval"}
    entry = {"calibrated": True, "method": METHOD, "n": int(len(known)), "nonnegative": target in nonnegative,
             **_noise_model(observed[known], predictive.rows(known), target in nonnegative, _floor(predictive.centre))}
    predictive = entry_predictive(entry, predictive.centre, predictive.samples)
    part = predictive.rows(known)
    noise = entry["noise_sd"]
    scores = np.sort(nonconformity(METHOD, observed[known], part, noise, REPORTED_LEVEL))
    entry["scores"] = [float(f"{s:.6g}") for s in scores]
    lower, upper = target_bounds(entry, predictive, REPORTED_LEVEL, target)
    reported = {split: r for split, r in rows.items() if split != "calibration"}
    entry["scores_at_level"] = {split: interval_scores(observed[r], lower[r], upper[r], predictive.rows(r), noise)
                                for split, r in reported.items()}
    val = reported.get("val", np.zeros(0, dtype=int))
    entry["reliability"] = reliability(METHOD, (observed[known], part), (observed[val], predictive.rows(val)), noise)
    entry["pit"] = np.histogram(pit(observed[val], predictive.rows(val), noise), bins=10, range=(0, 1))[0].tolist()
    return entry


def calibrate_run(model, everything: Tensors, targets: list[str], rows: dict, *, nonnegative=(), seed: int = 0,
                  passes: int = MC_PASSES, compare: bool = True) -> dict:
    """calibration.json of a trained model.

    Parameters
    ----------
    model : TrainableModel or MemberModel
        The trained model (CPU, best weights).
    everything : Tensors
        Every row's tensors; observations in ``everything.y`` (n, T), NaN where missing.
    targets : list of str
    rows : dict
        Row positions: ``calibration`` and the splits to report (``train``, ``val``).
    nonnegative : iterable of str
        Targets known to be >= 0 (the model's); a target whose every observation is >= 0 counts
        too. Their noise is relative (:data:`RELATIVE_NOISE`) and their lower bound is cut at 0.
    seed, passes : int
        MC-dropout's seed and number of passes.
    compare : bool
        Also score every method, for the members and for MC-dropout (``comparison``).
    """
    observed = everything.y.double().cpu().numpy()
    nonnegative = set(nonnegative) | {t for j, t in enumerate(targets)
                                      if np.isfinite(observed[:, j]).any() and np.nanmin(observed[:, j]) >= 0}
    source = default_source(model)
    centre, samples = prediction_samples(model, everything, source, passes, seed)
    result = {"method": METHOD, "source": source, "samples": int(len(samples)), "level": REPORTED_LEVEL,
              "minimum_sites": MINIMUM_SITES, "n_calibration_rows": int(len(rows["calibration"])),
              "passes": passes if sample_source(source).passes else None, "seed": seed, "targets": {}}
    for j, target in enumerate(targets):
        result["targets"][target] = _calibrate_target(target, observed[:, j], Predictive(centre[:, j], samples[:, :, j]),
                                                      rows, nonnegative)
    if compare:
        result["comparison"] = _comparison(model, everything, targets, rows, observed, source, (centre, samples),
                                           nonnegative=nonnegative, seed=seed, passes=passes)
    return result


def _comparison(model, everything, targets, rows, observed, source, sampled, *, nonnegative, seed, passes) -> dict:
    """Every method for the run's own samples and, where the network has dropout, for MC-dropout."""
    sources = {source: (sampled, None)}
    one = model.member(0) if isinstance(model, MemberModel) else model
    if source != "mc_dropout" and has_dropout(one):
        start = time.perf_counter()
        sources["mc_dropout"] = (prediction_samples(model, everything, "mc_dropout", passes, seed), None)
        sources["mc_dropout"] = (sources["mc_dropout"][0], time.perf_counter() - start)
    reported = {split: r for split, r in rows.items() if split != "calibration"}
    comparison = {}
    for name, ((centre, samples), seconds) in sources.items():
        comparison[name] = {"samples": int(len(samples)), "sampling_seconds": seconds, "targets": {}}
        for j, target in enumerate(targets):
            predictive = Predictive(centre[:, j], samples[:, :, j])
            if np.isfinite(observed[rows["calibration"], j]).sum() >= MINIMUM_SITES:
                comparison[name]["targets"][target] = _compare(observed[:, j], predictive, rows["calibration"],
                                                               reported, target, nonnegative)
    return comparison


def add_interval_metrics(metrics: dict, calibration: dict) -> None:
    """Put each calibrated target's coverage (``picp``), relative width (``interval_width``) and
    ``crps`` at the reported level into metrics.json's per-target, per-split entries."""
    metrics["interval_level"] = calibration["level"]
    metrics["interval_source"] = calibration["source"]
    for target, entry in calibration["targets"].items():
        for split, scores in entry.get("scores_at_level", {}).items():
            metrics["targets"][target].setdefault(split, {}).update(
                picp=scores["picp"], interval_width=scores["width"], crps=scores["crps"])
    mc = (calibration.get("comparison") or {}).get("mc_dropout")
    if mc is None or calibration["source"] == "mc_dropout":
        return
    for target, methods in mc["targets"].items():  # the cheap alternative beside it, same method and sites
        relative = calibration["targets"][target].get("noise_model") == "relative"
        for split, scores in methods[METHOD + ("_relative" if relative else "")].items():
            metrics["targets"][target][split].update(mc_dropout_picp=scores["picp"],
                                                     mc_dropout_interval_width=scores["width"],
                                                     mc_dropout_crps=scores["crps"])


__all__ = ["entry_predictive", "check_level", "interval_columns", "METHOD", "MINIMUM_SITES", "MC_PASSES", "REPORTED_LEVEL", "add_interval_metrics",
           "calibrate_run", "default_source", "dropout_samples", "prediction_samples", "target_bounds"]
