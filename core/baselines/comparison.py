"""The comparison table: every method's validation metrics per seed and fold (one record each),
summarised as mean ± sd over seeds and folds, and each method's difference to the hybrid.

Differences are paired: method minus hybrid on the same split (seed and fold), so that what the
split itself does (a hard fold) cancels; their mean and sample sd over the splits are reported,
and a difference *exceeds 2 sd* when |mean| > 2 sd over at least 2 splits. Which side is better
follows the metric: higher KGE, NSE and r, lower RMSE and CRPS.
"""
from __future__ import annotations

import math

from core.formatting import label
from core.metrics import spread

REFERENCE = "hybrid"
#: the metrics of every method, then those of methods with intervals
POINT_METRICS = ("kge", "rmse", "nse", "r", "alpha", "beta")
INTERVAL_METRICS = ("picp", "interval_width", "crps")
HIGHER_BETTER, LOWER_BETTER = frozenset({"kge", "nse", "r"}), frozenset({"rmse", "crps"})


def _value(record: dict, metric: str) -> float | None:
    value = record.get(metric)
    return float(value) if value is not None and math.isfinite(value) else None


def summarize(records: list[dict], metrics=POINT_METRICS + INTERVAL_METRICS) -> dict:
    """method -> target -> metric -> {mean, sd, n} over the records (metrics a method lacks are left out).

    Parameters
    ----------
    records : list of dict
        One per method, target, seed and fold: ``method``, ``target``, ``seed``, ``fold`` and the metrics.
    """
    summary: dict = {}
    for record in records:
        by_metric = summary.setdefault(record["method"], {}).setdefault(record["target"], {})
        for metric in metrics:
            value = _value(record, metric)
            if value is not None:
                by_metric.setdefault(metric, []).append(value)
    return {method: {target: {metric: spread(values).as_dict("mean", "sd", "n") for metric, values in by.items()}
                     for target, by in targets.items()} for method, targets in summary.items()}


def better(metric: str, difference: float) -> str | None:
    """"method" or "hybrid": which side a difference (method - hybrid) of ``metric`` favours (None: neither)."""
    if metric in HIGHER_BETTER:
        return "method" if difference > 0 else "hybrid"
    if metric in LOWER_BETTER:
        return "method" if difference < 0 else "hybrid"
    return None


def difference(pairs: list[tuple[float, float]], metric: str) -> dict:
    """Mean and sd of method - hybrid over paired values, whether |mean| > 2 sd, and which side is better."""
    values = [m - h for m, h in pairs]
    found = spread(values).as_dict("mean", "sd", "n")
    exceeds = bool(found["n"] >= 2 and found["mean"] != 0 and abs(found["mean"]) > 2 * found["sd"])
    return {**found, "beyond_2sd": exceeds, "better": better(metric, found["mean"]) if exceeds else None}


def differences(records: list[dict], reference: str = REFERENCE, metrics=POINT_METRICS + INTERVAL_METRICS) -> dict:
    """method -> target -> metric -> :func:`difference` against ``reference`` on the same seed and fold."""
    by_split = {(r["target"], r["seed"], r.get("fold")): r for r in records if r["method"] == reference}
    result: dict = {}
    for record in records:
        if record["method"] == reference:
            continue
        hybrid = by_split.get((record["target"], record["seed"], record.get("fold")))
        if hybrid is None:
            continue
        for metric in metrics:
            mine, theirs = _value(record, metric), _value(hybrid, metric)
            if mine is not None and theirs is not None:
                (result.setdefault(record["method"], {}).setdefault(record["target"], {})
                 .setdefault(metric, []).append((mine, theirs)))
    return {method: {target: {metric: difference(pairs, metric) for metric, pairs in by.items()}
                     for target, by in targets.items()} for method, targets in result.items()}


def verdict(entry: dict, method: str, metrics=("rmse", "kge")) -> str:
    """One phrase for a method's differences to the hybrid on one target (``entry``: metric ->
    :func:`difference`), e.g. ``rf better on RMSE; hybrid better on KGE``."""
    parts = []
    for metric in metrics:
        found = entry.get(metric)
        if found and found["beyond_2sd"] and found["better"]:
            winner = method if found["better"] == "method" else REFERENCE
            parts.append(f"{winner} better on {metric.upper()}")
    return "; ".join(parts) or "within 2 sd"


def not_beaten(diffs: dict, metrics=("rmse", "kge")) -> list[str]:
    """Lines naming every method and target where the hybrid is not better by more than 2 sd."""
    lines = []
    for method, targets in diffs.items():
        for target, entry in targets.items():
            for metric in metrics:
                found = entry.get(metric)
                if found is None or (found["beyond_2sd"] and found["better"] == "hybrid"):
                    continue
                how = f"{method} better by more than 2 sd" if found["beyond_2sd"] else "within 2 sd"
                lines.append(f"{label(target)} {metric.upper()}: {REFERENCE} does not beat {method} ({how}; "
                             f"{method} − {REFERENCE} {found['mean']:+.4f} ± {found['sd']:.4f})")
    return lines


__all__ = ["INTERVAL_METRICS", "POINT_METRICS", "REFERENCE", "better", "difference", "differences", "not_beaten",
           "summarize", "verdict"]
