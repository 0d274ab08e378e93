"""The role search's path as a table (``role_search.md``) and a figure (``role_search.png``)."""
from __future__ import annotations

from pathlib import Path

from ..formatting import number

MARKDOWN_FILE, FIGURE_FILE = "role_search.md", "role_search.png"


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


def _identified(step) -> str:
    return ", ".join(f"{name} {entry['verdict']} ({number(entry['agreement'], 2)})"
                     for name, entry in step.identifiability.items()) or "–"


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
                     f"{number(step.sd_val_kge, 3)} | {gain} | {'yes' if step.accepted else 'no'} | {_identified(step)} |")
    final = path[-1].neural if path else []
    lines += ["", f"Neural at the end: {', '.join(final) or 'none'}.", f"Stopped: {stop_reason(path, search.candidates)}.",
              "", f"Figure: `{FIGURE_FILE}`. Each step's runs: `step-K/` (an ordinary sweep folder).", ""]
    return "\n".join(lines)


def figure(path: list, file: Path) -> Path:
    """Mean validation KGE ± 1 sd per step; a step that was not kept in grey."""
    from ..figures import _save, subplots

    fig, ax = subplots(figsize=(1.2 + 1.1 * len(path), 3.6))
    for i, step in enumerate(path):
        colour = "tab:blue" if step.accepted else "0.6"
        ax.errorbar([i], [step.mean_val_kge], yerr=[step.sd_val_kge], fmt="o", color=colour, capsize=4)
    ax.plot(range(len(path)), [s.mean_val_kge for s in path], color="0.8", zorder=0)
    ax.set_xticks(range(len(path)), ["start"] + [f"+{s.parameter}" for s in path[1:]], rotation=30, ha="right")
    ax.set_ylabel("mean validation KGE")
    return _save(fig, file, "Role search (grey: not kept)")


def write_report(out: Path, search, path: list) -> None:
    import json

    from .search import PATH_FILE

    values = json.loads((out / PATH_FILE).read_text()) if (out / PATH_FILE).is_file() else {"path": []}
    values["stopped"] = stop_reason(path, search.candidates)
    (out / PATH_FILE).write_text(json.dumps(values, indent=2))
    (out / MARKDOWN_FILE).write_text(markdown(search, path))
    if path:
        figure(path, out / FIGURE_FILE)
