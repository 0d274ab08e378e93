"""Identifiability of one ensemble: per learned parameter its role, agreement, verdict, the
recovery of the truth where the data carry it, and the combinations of unidentified parameters
that are identified (:mod:`.combinations`). Members that failed to fit are left out first."""
from __future__ import annotations

import math

import numpy as np

from core.metrics import unit_position
from core.identify import combinations
from core.formatting import number
from core.identify.ensemble import Ensemble
from core.identify.fit import fit_failure
from core.identify.scores import global_agreement, member_spread, pairwise_correlation, site_agreement, verdict

#: the verdict while the fit failed or no twin fitted
NO_VERDICT = "no verdict"
#: why members of one ensemble run get no verdict from their agreement alone (docs/identifiability.md)
SHARED_SPLIT = ("members share one split and batch order (one ensemble run), and their agreement was not a "
                "valid verdict against truth; train separate seeds (a sweep's default) or run twins")


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
    entry["reason"] = f"members agree {number(score, 2)} (no twins run)"
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
    failure = fit_failure(ensemble, kept)
    if failure:
        for entry in [*parameters.values(), *found.values()]:
            entry.update(agreement_verdict=entry["verdict"], verdict=NO_VERDICT, reason=f"the fit failed: {failure}")
    elif ensemble.shared_split:
        for entry in [*parameters.values(), *found.values()]:
            entry.update(agreement_verdict=entry["verdict"], verdict=NO_VERDICT,
                         reason=f"members agree {number(entry['agreement'], 2)}, but {SHARED_SPLIT}")
    return {"model": ensemble.plan.model, "members": [m for m, k in zip(ensemble.members, kept) if k],
            "shared_split": ensemble.shared_split, "left_out": left_out, "fit": {"failed": bool(failure), "reason": failure}, "parameters": parameters,
            "combinations": found}


def _twin_entry(entry: dict, per_twin: dict, role: str) -> None:
    """Put the twin recovery on one parameter or combination entry and take its verdict from it.
    The verdict's ``score`` is the smaller of the twin recovery and the agreement: a parameter is
    identified only when the twins recover a known field (r >= 0.75) *and* the members agree on
    the user's data. A neural score is an r; a global one 1 - error / random-start error."""
    scores = [v for v in per_twin.values() if math.isfinite(v)]
    entry["agreement_verdict"] = entry.get("agreement_verdict", entry["verdict"])
    if entry["verdict"] == NO_VERDICT and "fit failed" in entry.get("reason", ""):
        return
    if not scores and entry.get("same_start"):
        entry.update(twin_recovery=None, verdict=NO_VERDICT,
                     reason="not tested: every member started it at its default (train with --global-start random)")
        return
    if not scores:
        entry.update(twin_recovery=None, verdict=NO_VERDICT, reason="no twin fitted, so nothing was checked")
        return
    mean = float(np.mean(scores))
    entry.update(twin_recovery=mean, twin_recovery_sd=float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
                 twins=len(scores), twin_values=per_twin)
    agreement = entry.get("agreement", math.nan)
    entry["score"] = min(mean, agreement) if math.isfinite(agreement) else mean
    entry["verdict"] = verdict(entry["score"])
    what = "recovered r" if role != "global" else "recovered (1 - error / random-start error)"
    entry["reason"] = f"{what} {number(mean, 2)} ± {number(entry['twin_recovery_sd'], 2)} in {len(scores)} " \
                      f"twin{'s' if len(scores) != 1 else ''}; members agree {number(agreement, 2)}"


def apply_twins(result: dict, twin_result: dict) -> dict:
    """The analysis ``result`` (:func:`analyse`) with the verdicts taken from twin recovery
    (:func:`core.identify.twins.twin_scores`); the agreement verdict stays as ``agreement_verdict``."""
    for name, entry in result["parameters"].items():
        _twin_entry(entry, twin_result["parameters"].get(name, {}), entry["role"])
    for label, entry in result["combinations"].items():
        _twin_entry(entry, twin_result["combinations"].get(label, {}), "combination")
    result["twins"] = {key: twin_result[key] for key in ("twins", "noise", "design") if key in twin_result}
    return result


def site_spread(ensemble: Ensemble, name: str) -> tuple[np.ndarray, str]:
    """Across-member sd per row of a neural parameter over the fitting members, (rows,), and what
    it is: the sd of log10 values for a parameter on a log scale (rates spanning decades), else
    the sd in its units."""
    values = ensemble.values[name][ensemble.fitting()]
    parameter = ensemble.parameter_set[name]
    if parameter.scale == "log":
        return member_spread(np.log10(np.clip(values, 1e-12, None))), f"sd of log10 {name}"
    return member_spread(values), f"sd of {name}" + (f" [{parameter.unit}]" if parameter.unit not in ("", "-") else "")
