"""An experiment's validation scores by group (metrics.json's ``scores_by``, :mod:`core.run.strata`)
over its runs: mean ± sd over seeds (and folds) of each group's KGE, coverage and CRPS, the share
of validation rows inside the area of applicability and how far validation lies from training
(``split_geometry``), as a dict for results.json and as Markdown for results.md. Groups are
matched by label: ``inside``/``outside``, ``DI 1/4`` ... (each run's own DI quartiles) and the
stratum's classes."""
from __future__ import annotations

from core.formatting import plus_minus
from core.metrics import spread

#: the sections of ``scores_by``, in report order, and their names in the tables
SECTIONS = {"aoa": "AOA", "di": "DI bin", "stratum": "stratum"}
#: the scores of a group, and their column headings
SCORES = {"kge": "KGE", "picp": "coverage", "crps": "CRPS"}


def _groups(scores_by: dict, section: str) -> list[dict]:
    block = scores_by.get(section)
    return (block or {}).get("groups", []) if section == "stratum" else list(block or [])


def _spread(values) -> dict:
    return spread(values).as_dict("n", "mean", "sd")


def _section_summary(runs: list[dict], section: str) -> list[dict]:
    """Per group label (in the order first seen): rows and per target each score, mean ± sd over runs."""
    labels = list(dict.fromkeys(g["group"] for r in runs for g in _groups(r, section)))
    summary = []
    for label in labels:
        found = [g for r in runs for g in _groups(r, section) if g["group"] == label]
        targets = list(dict.fromkeys(t for g in found for t in g["targets"]))
        summary.append({"group": label, "rows": _spread([g["rows"] for g in found]),
                        "targets": {t: {name: _spread([g["targets"].get(t, {}).get(name) for g in found])
                                        for name in ("n", *SCORES)} for t in targets}})
    return summary


def strata_summary(metrics: list[dict]) -> dict | None:
    """Mean ± sd over runs of what their ``scores_by`` hold.

    Parameters
    ----------
    metrics : list of dict
        The metrics.json of each run of one configuration.

    Returns
    -------
    dict or None
        ``runs``, ``val_inside`` (share of validation rows inside the AOA),
        ``median_nearest_train_km``, ``stratum_column`` and per section (``aoa``, ``di``,
        ``stratum``) a list of groups; None when no run has ``scores_by``.
    """
    runs = [m["scores_by"] for m in metrics if m.get("scores_by")]
    if not runs:
        return None
    stratum = next((r["stratum"]["column"] for r in runs if r.get("stratum")), None)
    return {"runs": len(runs), "stratum_column": stratum, "level": runs[0].get("level"),
            "val_inside": _spread([(m.get("applicability") or {}).get("val_inside") for m in metrics]),
            "median_nearest_train_km": _spread([(m.get("split_geometry") or {}).get("median_nearest_train_km")
                                                for m in metrics]),
            **{section: _section_summary(runs, section) for section in SECTIONS}}


def strata_markdown(summaries: dict[str, dict | None], targets) -> list[str]:
    """results.md's section of the validation scores by group: one table row per configuration,
    section, group and target (``summaries``: configuration -> :func:`strata_summary`)."""
    summaries = {name: s for name, s in summaries.items() if s}
    if not summaries:
        return []
    level = next(iter(summaries.values())).get("level")
    lines = ["", "## Validation scores by area of applicability, DI bin and stratum", "",
             "Mean ± sd over runs. AOA: inside or outside the run's area of applicability (Meyer & Pebesma 2021); "
             "DI bin: the run's own validation DI quartiles (1/4: most like the training rows); stratum: the classes "
             f"of the `--stratum` column. Coverage of the {level:.0%} interval, CRPS in the target's units "
             "(calibrated runs only); a group with fewer than 10 observations has no scores." if level else
             "Mean ± sd over runs; coverage and CRPS need a calibrated run (`--calibration`).", "",
             "| configuration | validation rows inside the AOA | median validation → training distance (km) |",
             "|---|---|---|"]
    lines += [f"| {name} | {plus_minus(s['val_inside'])} | {plus_minus(s['median_nearest_train_km'], 1)} |"
              for name, s in summaries.items()]
    lines += ["", "| configuration | target | by | group | n | " + " | ".join(SCORES.values()) + " |",
              "|---|---|---|---|---|" + "---|" * len(SCORES)]
    for name, s in summaries.items():
        for section, by in SECTIONS.items():
            for group in s[section]:
                for target in (t for t in targets if t in group["targets"]):
                    scores = group["targets"][target]
                    by_name = s["stratum_column"] if section == "stratum" else by
                    lines.append(f"| {name} | {target} | {by_name} | {group['group']} | {plus_minus(scores['n'], 0)} | "
                                 + " | ".join(plus_minus(scores[k]) for k in SCORES) + " |")
    return lines


__all__ = ["SECTIONS", "strata_markdown", "strata_summary"]
