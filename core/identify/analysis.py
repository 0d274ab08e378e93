"""Identifiability of one ensemble: per learned parameter its role, agreement, verdict, the
recovery of the truth where the data carry it, and the combinations of unidentified parameters
that are identified (:mod:`.combinations`). Members that failed to fit are left out first."""
from __future__ import annotations

import math

import numpy as np

from ..metrics import unit_position
from . import combinations
from .ensemble import Ensemble
from .scores import global_agreement, member_spread, pairwise_correlation, site_agreement, verdict


def _mean_sd(values) -> dict:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return {}
    return {"recovery_r": float(np.mean(values)),
            "recovery_r_sd": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0}


def parameter_entry(ensemble: Ensemble, parameter, kept: np.ndarray) -> dict:
    """role, agreement, verdict and members. Neural: the agreement is the pairwise correlation of
    per-site values; also ``level_agreement`` (of the members' means, as for a global),
    ``variance_agreement`` (the alternative score) and the median across-member sd per site on the
    unit scale. Global: the members' values. recovery_r (mean over members) and its sd where the
    data carry the truth."""
    units = unit_position(ensemble.values[parameter.name][kept], parameter)
    if parameter.role == "neural":
        score = pairwise_correlation(units)
        entry = {"role": "neural", "agreement": score, "verdict": verdict(score),
                 "level_agreement": global_agreement(units.mean(axis=1)),
                 "variance_agreement": site_agreement(units),
                 "median_member_sd": float(np.median(member_spread(units)))}
    else:
        score = global_agreement(units[:, 0])
        entry = {"role": "global", "agreement": score, "verdict": verdict(score),
                 "values": [float(v) for v in ensemble.values[parameter.name][kept, 0]]}
        if ensemble.plan.train.global_start == "default":
            entry["same_start"] = True
    entry["members"] = int(kept.sum())
    entry.update(_mean_sd(np.asarray(ensemble.recovery.get(parameter.name, []), dtype=float)[kept]
                          if parameter.name in ensemble.recovery else []))
    return entry


def analyse(ensemble: Ensemble, with_truth: bool = True) -> dict:
    """{"model", "members", "left_out", "parameters": name -> entry, "combinations": label -> entry}."""
    kept = ensemble.fitting()
    parameters = {p.name: parameter_entry(ensemble, p, kept) for p in ensemble.learned()}
    neural = {name: e["agreement"] for name, e in parameters.items() if e["role"] == "neural"}
    truth = ensemble.truth() if with_truth and len(neural) >= 2 else None
    found = combinations.search({name: ensemble.values[name][kept] for name in neural}, neural, truth)
    left_out = [{"member": m, "mean_val_kge": f} for m, f, k in zip(ensemble.members, ensemble.fits, kept) if not k]
    return {"model": ensemble.plan.model, "members": [m for m, k in zip(ensemble.members, kept) if k],
            "left_out": left_out, "parameters": parameters, "combinations": found}


def site_spread(ensemble: Ensemble, name: str) -> tuple[np.ndarray, str]:
    """Across-member sd per row of a neural parameter over the fitting members, (rows,), and what
    it is: the sd of log10 values for a parameter on a log scale (rates spanning decades), else
    the sd in its units."""
    values = ensemble.values[name][ensemble.fitting()]
    parameter = ensemble.parameter_set[name]
    if parameter.scale == "log":
        return member_spread(np.log10(np.clip(values, 1e-12, None))), f"sd of log10 {name}"
    return member_spread(values), f"sd of {name}" + (f" [{parameter.unit}]" if parameter.unit not in ("", "-") else "")
