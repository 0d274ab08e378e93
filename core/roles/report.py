"""The role search's files: the path as data (``role_search.json``), as a table
(``role_search.md``) and as a figure (``role_search.png``)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from core.report.figures import _save, subplots
from core.formatting import number
from core.io.json_files import write_json

PATH_FILE, MARKDOWN_FILE, FIGURE_FILE = "role_search.json", "role_search.md", "role_search.png"


def stop_reason(path: list, candidates: list[str]) -> str:
    if not path:
        return "no step finished"
    last = path[-1]
    if not last.accepted:
        return (f"making {last.parameter} neural gained {number(last.gain, 3)} in mean validation KGE, not more than "
                f"the sd of that gain over seeds ({number(last.gain_sd, 3)})")
    if len(last.neural) == len(candidates):
        return "every candidate parameter is neural"
    return "interrupted"


def identifiability_text(identifiability: dict) -> str:
    """One line from a step's identifiability (parameter -> verdict and agreement):
    ``cue identified (0.87), k_m0 weak (0.45)``; "–" for none."""
    return ", ".join(f"{name} {entry['verdict']} ({number(entry['agreement'], 2)})"
                     for name, entry in identifiability.items()) or "–"


def markdown(search, path: list) -> str:
    seeds = len(search.seeds)
    lines = ["# Role search", "",
             f"Greedy forward search from all parameters global; {seeds} seeds per configuration. Each step tries every "
             "parameter still global as neural and keeps the best one if its gain in mean validation KGE (paired by "
             "seed) is larger than the sd of that gain over seeds.", "",
             "| step | made neural | mean val KGE ± sd | gain ± sd | kept | identifiability of the neural parameters |",
             "|---|---|---|---|---|---|"]
    for step in path:
        gain = "–" if step.gain is None else f"{number(step.gain, 3)} ± {number(step.gain_sd, 3)}"
        lines.append(f"| {step.step} | {step.parameter or 'start (all global)'} | {number(step.mean_val_kge, 3)} ± "
                     f"{number(step.sd_val_kge, 3)} | {gain} | {'yes' if step.accepted else 'no'} | {identifiability_text(step.identifiability)} |")
    final = path[-1].neural if path else []
    lines += ["", f"Neural at the end: {', '.join(final) or 'none'}.", f"Stopped: {stop_reason(path, search.candidates)}.",
              "", f"Figure: `{FIGURE_FILE}`. Each step's runs: `step-K/` (an ordinary sweep folder).", ""]
    return "\n".join(lines)


def figure(path: list, file: Path) -> Path:
    """Mean validation KGE ± 1 sd per step; a step that was not kept in grey."""
    fig, ax = subplots(figsize=(1.2 + 1.1 * len(path), 3.6))
    for i, step in enumerate(path):
        colour = "tab:blue" if step.accepted else "0.6"
        ax.errorbar([i], [step.mean_val_kge], yerr=[step.sd_val_kge], fmt="o", color=colour, capsize=4)
    ax.plot(range(len(path)), [s.mean_val_kge for s in path], color="0.8", zorder=0)
    ax.set_xticks(range(len(path)), ["start"] + [f"+{s.parameter}" for s in path[1:]], rotation=30, ha="right")
    ax.set_ylabel("mean validation KGE")
    return _save(fig, file, "Role search (grey: not kept)")


def write_path(out: Path, search, path: list, stopped: str | None = None) -> None:
    """role_search.json: the search plan, the path (every step, the last one maybe not accepted),
    the parameters neural at the end and, once the search ended, why it stopped."""
    values = {"search": asdict(search), "neural": path[-1].neural if path else [],
              "path": [asdict(step) for step in path]}
    if stopped is not None:
        values["stopped"] = stopped
    write_json(out / PATH_FILE, values)


def write_report(out: Path, search, path: list) -> None:
    """The search's files once it ended: role_search.json with why it stopped, .md and .png."""
    write_path(out, search, path, stop_reason(path, search.candidates))
    (out / MARKDOWN_FILE).write_text(markdown(search, path))
    if path:
        figure(path, out / FIGURE_FILE)
