"""Products and ratios of parameters that an ensemble agrees on although it does not agree on
their parts: e.g. f_poc·k_m0/v_max0 in the SOC model, which the steady state constrains as a whole.

A combination is a product of powers ±1 of 2 or 3 neural parameters that are not identified,
scored like a neural parameter (:func:`pairwise_correlation`) on the log of the combination, so a
ratio and its inverse score the same. It is reported when it is identified and its agreement
beats that of each of its parts by at least ``MIN_GAIN``: otherwise it is a part in disguise.
Combinations that share parameters overlap; the best one of each group is marked ``leading``.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from core.metrics import correlation, log_combination
from core.identify.scores import IDENTIFIED, pairwise_correlation, verdict

#: how much a combination's agreement must exceed the best of its parts
MIN_GAIN = 0.25


def label(parts: tuple[tuple[str, int], ...]) -> str:
    """'a*b/c' for ((a, 1), (b, 1), (c, -1)); numerator and denominator each sorted by name."""
    over = sorted(name for name, power in parts if power > 0)
    under = sorted(name for name, power in parts if power < 0)
    text = "*".join(over) if over else "1"
    return text + "".join(f"/{name}" for name in under)


def _candidates(names: list[str], size: int):
    """Every set of ``size`` names with every sign pattern, up to an overall sign (first power +1)."""
    for group in itertools.combinations(sorted(names), size):
        for signs in itertools.product((1, -1), repeat=size - 1):
            yield tuple(zip(group, (1, *signs)))


def search(values: dict[str, np.ndarray], scores: dict[str, float], truth=None) -> dict[str, dict]:
    """Identified combinations of the parameters in ``scores`` that are not identified themselves.

    values: name -> (members, sites) learned values; scores: name -> agreement of each neural
    parameter; truth: optional frame of true values by parameter name (rows as in values).
    Returns label -> {parts, agreement, verdict, parts_agreement, leading, recovery_r, recovery_r_sd},
    best first; ``leading``: no better combination shares a parameter with it."""
    weak = [name for name, score in scores.items() if not (math.isfinite(score) and score >= IDENTIFIED)]
    found: dict[str, dict] = {}
    for size in (2, 3):
        for parts in _candidates(weak, size):
            score = pairwise_correlation(log_combination(values, parts))
            best_part = max((scores[name] for name, _ in parts if math.isfinite(scores[name])), default=0.0)
            if not (math.isfinite(score) and score >= IDENTIFIED and score - best_part >= MIN_GAIN):
                continue
            entry = {"parts": [[name, power] for name, power in parts], "agreement": score,
                     "verdict": verdict(score), "parts_agreement": {name: scores[name] for name, _ in parts}}
            entry.update(_recovery(values, parts, truth))
            found[label(parts)] = entry
    ordered = dict(sorted(found.items(), key=lambda item: -item[1]["agreement"]))
    used: set[str] = set()
    for entry in ordered.values():  # the best combination of each group of parameters leads
        names = {name for name, _ in entry["parts"]}
        entry["leading"] = not (names & used)
        used |= names
    return ordered


def _recovery(values, parts, truth) -> dict:
    """Mean and sd over members of r(log learned, log true) of the combination, where truth exists."""
    if truth is None or any(name not in truth for name, _ in parts):
        return {}
    true = log_combination(truth, parts)
    learned = log_combination(values, parts)
    known = np.isfinite(true)
    rs = [correlation(member[known], true[known]) for member in learned]
    rs = [r for r in rs if math.isfinite(r)]
    if not rs:
        return {}
    return {"recovery_r": float(np.mean(rs)), "recovery_r_sd": float(np.std(rs, ddof=1)) if len(rs) > 1 else 0.0}
