"""``identifiability.json`` and ``identifiability.md`` of a sweep folder, and the check that the
agreement score predicts recovery where the data carry the truth (Spearman over parameters)."""
from __future__ import annotations

from pathlib import Path

from core.io.json_files import write_json
from core.formatting import number
import re

from core.identify.analysis import analyse, apply_twins
from core.identify.ensemble import sweep_ensembles
from core.identify.scores import IDENTIFIED, WEAK, spearman

JSON_FILE, MARKDOWN_FILE = "identifiability.json", "identifiability.md"
SCORES = {"neural": "mean Pearson r between the per-site values of every pair of members (on the unit scale "
                    "between the bounds)",
          "global": "1 - sd of the members' values / sd of a uniform draw within the bounds",
          "combination": "as for neural parameters, on the log of the product or ratio"}


#: the folder under a sweep's that holds the twin experiments, one sub-folder per configuration
TWINS_FOLDER = "twins"
#: how recovery in the twins is scored
TWIN_SCORES = {"neural": "mean over twins of the mean over members of Pearson r (learned vs the twin's true field)",
               "global": "with random global starts only: mean over twins of 1 - mean |learned - true| / (1/3) on the "
                         "unit scale, clipped at 0 (1/3: the error of a random start)",
               "combination": "as for neural parameters, on the log of the product or ratio"}


def _folder_name(configuration: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+=-]", "_", configuration)[:100] or "configuration"


def identify(out: str | Path, with_truth: bool = True, *, twins=None, options=None, executor=None) -> dict:
    """Identifiability of every configuration of the sweep in ``out`` with >= 2 finished members.

    twins: a :class:`core.identify.twins.TwinDesign` to take the verdicts from twin experiments
    (trained into OUT/twins/<configuration>, on ``executor`` or one opened from ``options``)."""
    out = Path(out)
    configurations = {}
    ensembles = sweep_ensembles(out)
    for ensemble in ensembles:
        configurations[ensemble.configuration] = analyse(ensemble, with_truth)
    if twins is not None:
        _add_twins(configurations, ensembles, out / TWINS_FOLDER, twins, options, executor)
    return {"thresholds": {"identified": IDENTIFIED, "weak": WEAK}, "scores": SCORES,
            **({"twin_scores": TWIN_SCORES} if twins is not None else {}),
            "configurations": configurations, "validation": validation(configurations)}


def _add_twins(configurations: dict, ensembles: list, folder: Path, design, options, executor) -> None:
    """Run the twins of every ensemble that fits (one executor for all; opened from ``options``
    only when some ensemble needs twins) and take their verdicts from them."""
    from dataclasses import asdict

    from core.sweep import ExecutorOptions
    from core.identify.twins import run_twins

    fitting = []
    for ensemble in ensembles:
        result = configurations[ensemble.configuration]
        if result["fit"]["failed"]:
            result["twins"] = {"skipped": "the fit failed, so twins were not run"}
        else:
            fitting.append(ensemble)
    if fitting and executor is None:
        with (options or ExecutorOptions()).executor() as own:
            return _add_twins(configurations, fitting, folder, design, options, own)
    for ensemble in fitting:
        result = configurations[ensemble.configuration]
        combinations = {label: e["parts"] for label, e in result["combinations"].items() if e["leading"]}
        scores = run_twins(ensemble, folder / _folder_name(ensemble.configuration), design,
                           combinations=combinations, executor=executor)
        apply_twins(result, {**scores, "design": asdict(design)})


def recovery_points(configurations: dict) -> list[dict]:
    """(configuration, parameter, agreement, recovery_r) for each neural parameter and combination with truth."""
    points = []
    for configuration, result in configurations.items():
        entries = [(n, e) for n, e in result["parameters"].items() if e["role"] == "neural"]
        entries += [(n, e) for n, e in result["combinations"].items() if e["leading"]]
        points += [{"configuration": configuration, "model": result["model"], "parameter": name,
                    "agreement": e["agreement"], "variance_agreement": e.get("variance_agreement"),
                    "twin_recovery": e.get("twin_recovery"), "score": e.get("score"), "verdict": e["verdict"],
                    "recovery_r": e["recovery_r"], "recovery_r_sd": e.get("recovery_r_sd")}
                   for name, e in entries if e.get("recovery_r") is not None]
    return points


def validation(configurations: dict) -> dict:
    """Spearman correlation between agreement and mean recovery r over the points with truth,
    pooled and per model; None where fewer than 3 points. ``variance_spearman``: the same for the
    alternative score (neural parameters only); ``twin_spearman``: for twin recovery;
    ``score_spearman``: for the verdict's score with twins (the smaller of agreement and twin recovery).
    ``false_identified``: the points called identified whose recovery r is below 0.5."""
    points = recovery_points(configurations)
    per_model = {}
    for model in dict.fromkeys(p["model"] for p in points):
        mine = [p for p in points if p["model"] == model]
        per_model[model] = {"n": len(mine), "spearman": _spearman(mine),
                            "variance_spearman": _spearman(mine, "variance_agreement"),
                            "twin_spearman": _spearman(mine, "twin_recovery"),
                            "score_spearman": _spearman(mine, "score")}
    false = [f"{p['configuration']}:{p['parameter']}" for p in points
             if p["verdict"] == "identified" and p["recovery_r"] < WEAK]
    return {"n": len(points), "spearman": _spearman(points),
            "variance_spearman": _spearman(points, "variance_agreement"),
            "twin_spearman": _spearman(points, "twin_recovery"), "score_spearman": _spearman(points, "score"),
            "false_identified": false,
            "per_model": per_model, "points": points}


def _spearman(points: list[dict], score: str = "agreement"):
    points = [p for p in points if p.get(score) is not None]
    value = spearman([p[score] for p in points], [p["recovery_r"] for p in points])
    return value if value == value else None


def _twin(entry: dict) -> str:
    if entry.get("twin_recovery") is None:
        return "–"
    return f"{number(entry['twin_recovery'], 2)} ± {number(entry['twin_recovery_sd'], 2)} ({entry['twins']})"


def _twin_lines(twins: dict | None) -> list[str]:
    if not twins:
        return []
    if "skipped" in twins:
        return ["", f"Twins: {twins['skipped']}."]
    runs = twins.get("twins") or {}
    failed = [f"{name} ({e['failed']})" for name, e in runs.items() if e.get("failed")]
    noise = ", ".join(f"{t} {e['kind']} sd {number(e['sd'], 3)}" for t, e in (twins.get("noise") or {}).items())
    lines = ["", f"Twin recovery: mean ± sd over {len(runs) - len(failed)} of {len(runs)} twins (count in brackets), "
             f"each with {(twins.get('design') or {}).get('members', '?')} members. The verdict uses the smaller "
             f"of agreement and twin recovery: identified needs both (docs/identifiability.md). Twin noise: {noise or '–'}."]
    if failed:
        lines.append("Twins left out because their fit failed: " + "; ".join(failed) + ".")
    return lines


def _recovery(entry: dict) -> str:
    if entry.get("recovery_r") is None:
        return "–"
    return f"{number(entry['recovery_r'], 2)} ± {number(entry['recovery_r_sd'], 2)}"


def markdown(result: dict, title: str = "Identifiability") -> str:
    """A readable account: per configuration a table of parameters, then the combinations found."""
    lines = [f"# {title}", "",
             f"Agreement is 1 when every member of the ensemble learned the same thing and about 0 when members "
             f"agree no better than chance. Verdict: identified at ≥ {IDENTIFIED}, weak at ≥ {WEAK}, otherwise "
             f"not identified. Recovery r (mean ± sd over members) compares learned and true values where the data "
             f"carry the truth. Definitions: docs/identifiability.md.", ""]
    for configuration, entry in result["configurations"].items():
        lines += [f"## {configuration} ({entry['model']}, {len(entry['members'])} members)", ""]
        if (entry.get("fit") or {}).get("failed"):
            lines += [f"**No verdicts: the fit failed.** {entry['fit']['reason']}. Fix the fit first (more epochs, "
                      "other settings or roles); a verdict on parameters of a failed fit says nothing.", ""]
        lines += ["| parameter | role | agreement | twin recovery | verdict | recovery r |", "|---|---|---|---|---|---|"]
        lines += [f"| {name} | {e['role']} | {number(e['agreement'], 2)} | {_twin(e)} | {e['verdict']} | {_recovery(e)} |"
                  for name, e in entry["parameters"].items()]
        lines += _twin_lines(entry.get("twins"))
        lines += _combination_lines(entry["combinations"])
        if entry["left_out"]:
            lines += ["", "Left out as failed fits (mean validation KGE far below the other members'): "
                      + ", ".join(f"{m['member']} ({number(m['mean_val_kge'], 3)})" for m in entry["left_out"]) + "."]
        if any(e.get("same_start") for e in entry["parameters"].values()):
            lines += ["", "The global parameters of all members started from the same value, so their agreement "
                      "overstates identification" + (" and the twins cannot test them (no verdict)" if entry.get("twins")
                                                     else "") + "; train the ensemble with `--global-start random`."]
        lines.append("")
    check = result["validation"]
    if check["n"]:
        lines += ["## Does agreement predict recovery?", "",
                  f"Spearman correlation between agreement and recovery r over {check['n']} "
                  f"{'point' if check['n'] == 1 else 'points'} (parameters and combinations with truth): {number(check['spearman'], 2) if check['spearman'] is not None else '–'}.",
                  ""]
        if check.get("score_spearman") is not None:
            lines += [f"With twins: Spearman of twin recovery {number(check['twin_spearman'], 2)}, of the verdict's "
                      f"score {number(check['score_spearman'], 2)}; called identified with recovery r below 0.5: "
                      f"{', '.join(check['false_identified']) or 'none'}.", ""]
    return "\n".join(lines)


def _combination_lines(found: dict) -> list[str]:
    if not found:
        return []
    leading = {name: e for name, e in found.items() if e["leading"]}
    lines = ["", "Identified combinations of parameters that are not identified on their own (the best of each "
             "group of parameters):", "",
             "| combination | agreement | agreement of the parts | twin recovery | verdict | recovery r |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {number(e['agreement'], 2)} | "
              + ", ".join(f"{p} {number(s, 2)}" for p, s in e["parts_agreement"].items())
              + f" | {_twin(e)} | {e['verdict']} | {_recovery(e)} |" for name, e in leading.items()]
    others = [name for name in found if name not in leading]
    if others:
        lines += ["", f"{len(others)} more that overlap these: " + ", ".join(others) + "."]
    return lines


def write_identifiability(out: str | Path, title: str = "Identifiability", *, twins=None, options=None,
                          executor=None) -> dict | None:
    """Write OUT/identifiability.json and .md; None (nothing written) when no configuration has 2
    members. twins, options, executor: as for :func:`identify`."""
    out = Path(out)
    result = identify(out, twins=twins, options=options, executor=executor)
    if not result["configurations"]:
        return None
    write_json(out / JSON_FILE, result)
    (out / MARKDOWN_FILE).write_text(markdown(result, title))
    return result


def after_sweep(sweep, out: Path, title: str) -> None:
    """A sweep's ``after`` hook (:func:`core.sweep.run_sweep`): identifiability.json and .md when the
    sweep has 2 or more seeds or folds."""
    if len(sweep.seeds) > 1 or sweep.folds:
        write_identifiability(out, f"{title}: identifiability")


def after_sweep_with_twins(twins, options=None):
    """An ``after`` hook like :func:`after_sweep` whose verdicts come from twin experiments
    (a :class:`core.identify.twins.TwinDesign`; ``options``: the executor to train them on)."""
    def hook(sweep, out: Path, title: str) -> None:
        if len(sweep.seeds) > 1 or sweep.folds:
            write_identifiability(out, f"{title}: identifiability", twins=twins, options=options)
    return hook
