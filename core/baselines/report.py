"""``results.json`` and ``results.md`` of a comparison: per method and target the validation
metrics as mean ± sd over seeds and folds, each method's paired difference to the hybrid with its
sd, which differences exceed 2 sd, and where the hybrid does not beat a baseline."""
from __future__ import annotations

import json
from pathlib import Path

from core.uncertainty.calibration import REPORTED_LEVEL
from core.formatting import label, number, plus_minus, with_unit
from core.metrics import spread
from core.io.json_files import json_safe
from core.io.outputs import write_text
from core.baselines.awc import DESCRIPTION as AWC_DESCRIPTION, PF_REACH
from core.baselines.comparison import REFERENCE, differences, not_beaten, summarize, verdict

#: the columns of the point table: metric, header, decimals
POINT_COLUMNS = (("kge", "KGE", 3), ("rmse", "RMSE", 4), ("nse", "NSE", 3))
INTERVAL_COLUMNS = (("picp", "coverage", 3), ("interval_width", "width / sd", 2), ("crps", "CRPS", 4))


def results_summary(comparison, records: list[dict], options, seconds: float) -> dict:
    """results.json's content (the records included, one per method, target, seed and fold)."""
    plan, data, spec = comparison.plan, comparison.data, comparison.plan.spec
    methods = [REFERENCE, *(b.name for b in comparison.baselines)]
    seeds = sorted({r["seed"] for r in records if r["method"] == REFERENCE})
    diffs = differences(records)
    per_split = summarize(records, metrics=("seconds",))
    return {
        "experiment": "compare", "model": plan.model, "roles": plan.parameter_set().roles, "data": data.name,
        "n_rows": int(len(data.frame)), "n_groups": int(data.frame[data.id].nunique()), "group": data.id,
        "predictors": list(data.predictors), "targets": comparison.scored,
        "units": {t: spec.units.get(t, "") for t in comparison.scored}, "derived": derived_notes(comparison), "seeds": seeds, "folds": options.folds,
        "split": "kfold" if options.folds else options.split, "members": options.members, "pack_seeds": options.pack_seeds,
        "calibration": options.calibration_share, "interval_level": REPORTED_LEVEL, "methods": methods,
        "baselines": {b.name: {"description": b.description, "reference": b.reference, "trained": b.trained}
                      for b in comparison.baselines},
        "summary": summarize(records), "aoa": aoa_summary(records), "differences": diffs, "not_beaten": not_beaten(diffs),
        "seconds_per_split": {m: next(iter(t.values()))["seconds"] for m, t in per_split.items() if t},
        "fit_seconds": dict(comparison.seconds), "total_seconds": seconds, "records": records,
    }


def derived_notes(comparison) -> dict:
    """name -> how a derived quantity is observed and predicted, and how many samples have it."""
    if comparison.awc is None:
        return {}
    return {"awc": {"description": AWC_DESCRIPTION, "samples": int(len(comparison.awc.samples)),
                    "pf_reach": PF_REACH}}


def _cell(entry: dict | None, digits: int) -> str:
    return plus_minus(entry, digits) if entry else "–"


def _difference_cell(entry: dict | None, digits: int) -> str:
    if not entry:
        return "–"
    text = f"{entry['mean']:+.{digits}f} ± {number(entry['sd'], digits)}"
    return f"**{text}**" if entry["beyond_2sd"] else text


def target_table(results: dict, target: str) -> list[str]:
    """The point-metric table of one target: one row per method with its differences to the hybrid."""
    unit = results["units"].get(target, "")
    head = " | ".join(name for _, name, _ in POINT_COLUMNS)
    diff_head = " | ".join(f"Δ {name}" for _, name, _ in POINT_COLUMNS)
    lines = [f"## {with_unit(label(target), unit, brackets=True)}", "",
             f"| method | {head} | {diff_head} | verdict |", "|---|" + "---|" * (2 * len(POINT_COLUMNS) + 1)]
    for method in results["methods"]:
        entry = results["summary"].get(method, {}).get(target)
        if entry is None:
            continue
        diff = results["differences"].get(method, {}).get(target, {})
        cells = [_cell(entry.get(m), d) for m, _, d in POINT_COLUMNS]
        deltas = [_difference_cell(diff.get(m), d) for m, _, d in POINT_COLUMNS] if method != REFERENCE else \
            ["–"] * len(POINT_COLUMNS)
        said = verdict(diff, method) if method != REFERENCE else "reference"
        lines.append(f"| {method} | {' | '.join(cells)} | {' | '.join(deltas)} | {said} |")
    note = results.get("derived", {}).get(target)
    if note:
        lines += ["", f"{note['description']}. {note['samples']:,} samples have an observed AWC; each split scores "
                      f"its validation samples."]
    return lines + [""]


def interval_table(results: dict) -> list[str]:
    """Coverage, width and CRPS of every method with intervals (empty when none has them)."""
    rows = []
    for method in results["methods"]:
        for target, entry in results["summary"].get(method, {}).items():
            if entry.get("picp"):
                cells = [_cell(entry.get(m), d) for m, _, d in INTERVAL_COLUMNS]
                rows.append(f"| {method} | {label(target)} | {' | '.join(cells)} |")
    if not rows:
        return []
    level = round(100 * results["interval_level"])
    return [f"## {level} % prediction intervals (validation rows)", "",
            "The hybrid's: calibrated on its held-out calibration sites (docs/uncertainty.md); qrf's: its "
            f"{(100 - level) / 2:g} % and {(100 + level) / 2:g} % quantiles as they are. Width in sd of the observed "
            "values; CRPS in the target's units, of the predictive normal (lower is better).", "",
            "| method | target | " + " | ".join(n for _, n, _ in INTERVAL_COLUMNS) + " |", "|---|---|---|---|---|",
            *rows, ""]


def _aoa_spread(records: list[dict], pick) -> dict | None:
    values = [pick(r["aoa"]) for r in records]
    values = [v for v in values if v is not None]
    return spread(values).as_dict("mean", "sd", "n") if values else None


def aoa_summary(records: list[dict]) -> dict:
    """method -> target -> the share of validation rows inside the method's own AOA, the KGE inside
    and outside and the rows outside, each mean ± sd over the splits that have it."""
    summary: dict = {}
    for method, target in dict.fromkeys((r["method"], r["target"]) for r in records if r.get("aoa")):
        found = [r for r in records if r["method"] == method and r["target"] == target and r.get("aoa")]
        summary.setdefault(method, {})[target] = {
            "val_inside": _aoa_spread(found, lambda a: a.get("val_inside")),
            "kge_inside": _aoa_spread(found, lambda a: (a.get("inside") or {}).get("kge")),
            "kge_outside": _aoa_spread(found, lambda a: (a.get("outside") or {}).get("kge")),
            "n_outside": _aoa_spread(found, lambda a: (a.get("outside") or {}).get("n"))}
    return summary


def aoa_table(results: dict) -> list[str]:
    """Each method's validation rows inside its own area of applicability, and its KGE on each side."""
    rows = [f"| {method} | {label(target)} | {_cell(e['val_inside'], 3)} | {_cell(e['kge_inside'], 3)} | "
            f"{_cell(e['kge_outside'], 3)} | {_cell(e['n_outside'], 0)} |"
            for method in results["methods"] for target, e in results.get("aoa", {}).get(method, {}).items()]
    if not rows:
        return []
    return ["## Area of applicability (validation rows)", "",
            "Each method's own AOA (Meyer & Pebesma 2021): the hybrid's and nn's weights are their permutation "
            "importances, the forests' their impurity importances. KGE outside needs 10 observations there in a "
            "split; – where no split had them.", "",
            "| method | target | rows inside | KGE inside | KGE outside | rows outside |", "|---|---|---|---|---|---|",
            *rows, ""]


def results_markdown(results: dict) -> str:
    """results.md: the set-up, a table per target, intervals, time, and where the hybrid does not win."""
    seeds, folds = results["seeds"], results["folds"]
    splits = f"{folds}-fold by {results['group']}" if folds else f"{results['split']} split by {results['group']}"
    lines = [f"# {results['model']} hybrid against {', '.join(results['methods'][1:]) or 'no baseline'}", "",
             f"Data {results['data']}: {results['n_rows']:,} rows, {results['n_groups']:,} groups ({results['group']}); "
             f"predictors {', '.join(results['predictors'])}. {splits} × {len(seeds)} seed(s) "
             f"({', '.join(map(str, seeds))}); every method is scored on the validation rows of the same splits, and "
             f"the fitted baselines learn from the hybrid's own training rows.", "",
             "Values: mean ± sd over seeds and folds. Δ: method − hybrid on the same split (paired), mean ± sd; "
             "**bold** where |mean| > 2 sd. Verdict on RMSE and KGE.", ""]
    for target in results["targets"]:
        lines += target_table(results, target)
    lines += interval_table(results)
    lines += aoa_table(results)
    lines += ["## Time", "", "| method | seconds per split (mean ± sd) |", "|---|---|"]
    lines += [f"| {m} | {plus_minus(s, 2)} |" for m, s in results["seconds_per_split"].items()]
    if results.get("pack_seeds"):
        lines += ["", "Seeds packed (--pack-seeds): the seeds of a fold share its split and train together as one "
                      "ensemble run, whose time each of them shows."]
    lines += ["", f"Whole comparison: {results['total_seconds']:.0f} s.", "", "## Where the hybrid does not beat a baseline", ""]
    lines += [f"- {line}" for line in results["not_beaten"]] or ["- nowhere: the hybrid is better by more than 2 sd "
                                                                 "on every target, metric and baseline."]
    return "\n".join(lines) + "\n"


def write_results(out: Path, comparison, records: list[dict], options, seconds: float) -> dict:
    """Write results.json and results.md into ``out``; returns results.json's content."""
    results = results_summary(comparison, records, options, seconds)
    write_text(Path(out) / "results.json", json.dumps(json_safe(results), indent=2))
    write_text(Path(out) / "results.md", results_markdown(results))
    return results
