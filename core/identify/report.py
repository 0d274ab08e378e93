"""``identifiability.json`` and ``identifiability.md`` of a sweep folder, and the check that the
agreement score predicts recovery where the data carry the truth (Spearman over parameters)."""
from __future__ import annotations

from pathlib import Path

from ..json_files import write_json
from ..formatting import number
from .analysis import analyse
from .ensemble import sweep_ensembles
from .scores import IDENTIFIED, WEAK, spearman

JSON_FILE, MARKDOWN_FILE = "identifiability.json", "identifiability.md"
SCORES = {"neural": "share of the variance over members and sites that is not variance across members "
                    "(on the unit scale between the bounds)",
          "global": "1 - sd of the members' values / sd of a uniform draw within the bounds",
          "combination": "as for neural parameters, on the log of the product or ratio"}


def identify(out: str | Path, with_truth: bool = True) -> dict:
    """Identifiability of every configuration of the sweep in ``out`` with >= 2 finished members."""
    configurations = {e.configuration: analyse(e, with_truth) for e in sweep_ensembles(out)}
    return {"thresholds": {"identified": IDENTIFIED, "weak": WEAK}, "scores": SCORES,
            "configurations": configurations, "validation": validation(configurations)}


def recovery_points(configurations: dict) -> list[dict]:
    """(configuration, parameter, agreement, recovery_r) for each neural parameter and combination with truth."""
    points = []
    for configuration, result in configurations.items():
        entries = [(n, e) for n, e in result["parameters"].items() if e["role"] == "neural"]
        entries += [(n, e) for n, e in result["combinations"].items() if e["leading"]]
        points += [{"configuration": configuration, "model": result["model"], "parameter": name,
                    "agreement": e["agreement"], "variance_agreement": e.get("variance_agreement"),
                    "recovery_r": e["recovery_r"]}
                   for name, e in entries if e.get("recovery_r") is not None]
    return points


def validation(configurations: dict) -> dict:
    """Spearman correlation between agreement and mean recovery r over the points with truth,
    pooled and per model; None where fewer than 3 points. ``variance_spearman``: the same for the
    alternative score (neural parameters only)."""
    points = recovery_points(configurations)
    per_model = {}
    for model in dict.fromkeys(p["model"] for p in points):
        mine = [p for p in points if p["model"] == model]
        per_model[model] = {"n": len(mine), "spearman": _spearman(mine),
                            "variance_spearman": _spearman(mine, "variance_agreement")}
    return {"n": len(points), "spearman": _spearman(points),
            "variance_spearman": _spearman(points, "variance_agreement"), "per_model": per_model, "points": points}


def _spearman(points: list[dict], score: str = "agreement"):
    points = [p for p in points if p.get(score) is not None]
    value = spearman([p[score] for p in points], [p["recovery_r"] for p in points])
    return value if value == value else None


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
        lines += [f"## {configuration} ({entry['model']}, {len(entry['members'])} members)", "",
                  "| parameter | role | agreement | verdict | recovery r |", "|---|---|---|---|---|"]
        lines += [f"| {name} | {e['role']} | {number(e['agreement'], 2)} | {e['verdict']} | {_recovery(e)} |"
                  for name, e in entry["parameters"].items()]
        lines += _combination_lines(entry["combinations"])
        if entry["left_out"]:
            lines += ["", "Left out as failed fits (mean validation KGE far below the other members'): "
                      + ", ".join(f"{m['member']} ({number(m['mean_val_kge'], 3)})" for m in entry["left_out"]) + "."]
        if any(e.get("same_start") for e in entry["parameters"].values()):
            lines += ["", "The global parameters of all members started from the same value, so their agreement "
                      "overstates identification; train the ensemble with `--global-start random`."]
        lines.append("")
    check = result["validation"]
    if check["n"]:
        lines += ["## Does agreement predict recovery?", "",
                  f"Spearman correlation between agreement and recovery r over {check['n']} "
                  f"{'point' if check['n'] == 1 else 'points'} (parameters and combinations with truth): {number(check['spearman'], 2) if check['spearman'] is not None else '–'}.",
                  ""]
    return "\n".join(lines)


def _combination_lines(found: dict) -> list[str]:
    if not found:
        return []
    leading = {name: e for name, e in found.items() if e["leading"]}
    lines = ["", "Identified combinations of parameters that are not identified on their own (the best of each "
             "group of parameters):", "", "| combination | agreement | agreement of the parts | recovery r |",
             "|---|---|---|---|"]
    lines += [f"| {name} | {number(e['agreement'], 2)} | "
              + ", ".join(f"{p} {number(s, 2)}" for p, s in e["parts_agreement"].items())
              + f" | {_recovery(e)} |" for name, e in leading.items()]
    others = [name for name in found if name not in leading]
    if others:
        lines += ["", f"{len(others)} more that overlap these: " + ", ".join(others) + "."]
    return lines


def write_identifiability(out: str | Path, title: str = "Identifiability") -> dict | None:
    """Write OUT/identifiability.json and .md; None (nothing written) when no configuration has 2 members."""
    out = Path(out)
    result = identify(out)
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
