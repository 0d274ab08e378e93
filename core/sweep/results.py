"""A sweep's results: ``sweep.parquet`` (one row per run), ``summary.json``, ``summary.md`` and
``summary.png`` (mean ± standard deviation over seeds and folds, per configuration and target)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from core.io.json_files import json_safe
from core.errors import HybridlabError
from core.formatting import number, plus_minus
from core.metrics import spread
from core.sweep.task import FAILED, FINISHED

TABLE, SUMMARY_JSON, SUMMARY_MD, SUMMARY_FIGURE = "sweep.parquet", "summary.json", "summary.md", "summary.png"
AXES = ("configuration", "seed", "fold")


def write_table(rows: list[dict], out: Path, order: list[str] | None = None) -> pd.DataFrame:
    """sweep.parquet: one row per run (axes first) in the sweep's order (``order``: run names),
    written beside and then renamed into place."""
    table = pd.DataFrame(rows)
    for column in (*AXES, "status", "error"):
        if column not in table:
            table[column] = None
    first = [c for c in ("name", *AXES, "split", "status", "error", "epochs", "best_epoch", "duration_s",
                         "train_seconds", "worker", "mean_val_kge") if c in table]
    table = table[first + [c for c in table.columns if c not in first]]
    if order is not None:
        position = {name: i for i, name in enumerate(order)}
        table = table.sort_values("name", key=lambda names: names.map(lambda n: position.get(n, len(position))),
                                  kind="mergesort")
    table = table.reset_index(drop=True)
    partial = out / f".{TABLE}.partial-{os.getpid()}"
    table.to_parquet(partial, index=False)
    partial.replace(out / TABLE)
    return table


def read_table(out: Path) -> pd.DataFrame | None:
    """sweep.parquet of the sweep in ``out``; None when there is none; one line when it is damaged."""
    path = Path(out) / TABLE
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as e:  # noqa: BLE001 - Arrow's errors differ by damage: one line
        raise HybridlabError(f"{path}: cannot be read ({type(e).__name__}); remove it and run the sweep again "
                             f"to rebuild it from the run folders") from None


#: per target and split, what the summary gives mean ± sd of (the interval's parts where runs have them)
SUMMARY_PARTS = ("kge", "r", "alpha", "beta", "picp", "interval_width", "crps", "mc_dropout_picp",
                 "mc_dropout_interval_width", "mc_dropout_crps")


def _spread(values) -> dict:
    """mean, sd and n of the finite values (as summary.json holds them)."""
    return spread(values).as_dict("mean", "sd", "n")


def _targets(table: pd.DataFrame) -> list[str]:
    return [c.removeprefix("val_kge_") for c in table.columns if c.startswith("val_kge_")]


def summarize(table: pd.DataFrame) -> dict:
    """Per configuration: finished/failed counts, mean ± sd (sample sd over seeds and folds) of
    the mean validation KGE, of each target's train and validation metrics, and of parameter
    recovery; the failures with their errors; and which configuration pairs differ by more than
    2 sd of the difference (sd = sqrt(sd_a² + sd_b²))."""
    summary = {"runs": int(len(table)), "finished": int((table["status"] == FINISHED).sum()),
               "failed": int((table["status"] == FAILED).sum()), "configurations": {}, "failures": []}
    targets = _targets(table)
    recovery = [c for c in table.columns if c.startswith("recovery_r_")]
    for name, group in table.groupby("configuration", sort=False):
        done = group[group["status"] == FINISHED]
        entry = {"finished": int(len(done)), "failed": int(len(group) - len(done)),
                 "mean_val_kge": _spread(done.get("mean_val_kge", [])), "targets": {}, "recovery": {}}
        for target in targets:
            entry["targets"][target] = {f"{split}_{part}": _spread(done[f"{split}_{part}_{target}"])
                                        for split in ("train", "val") for part in SUMMARY_PARTS
                                        if f"{split}_{part}_{target}" in done and done[f"{split}_{part}_{target}"].notna().any()}
        for column in recovery:
            spread = _spread(done[column])
            if spread["n"]:
                entry["recovery"][column.removeprefix("recovery_")] = spread
        summary["configurations"][str(name)] = entry
    for _, row in table[table["status"] == FAILED].iterrows():
        summary["failures"].append({"name": row["name"], "error": row.get("error") or ""})
    summary["differences"] = differences(summary["configurations"])
    return summary


def differences(configurations: dict) -> list[dict]:
    """Pairs of configurations whose mean validation KGE differ, with the difference in units of its sd."""
    names = [n for n, c in configurations.items() if c["mean_val_kge"]["n"]]
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            sa, sb = configurations[a]["mean_val_kge"], configurations[b]["mean_val_kge"]
            delta = sa["mean"] - sb["mean"]
            sd = math.hypot(sa["sd"], sb["sd"])
            pairs.append({"a": a, "b": b, "difference": delta, "sd": sd,
                          "beyond_2sd": bool(sd > 0 and abs(delta) > 2 * sd)})
    return pairs


def _recovery_label(key: str) -> str:
    """r_q10 -> q10; r_val_q10 -> q10 (validation sites); r_log_X -> log(X)."""
    if key.startswith("r_log_"):
        return f"log({key.removeprefix('r_log_')})"
    if key.startswith("r_val_"):
        return f"{key.removeprefix('r_val_')} (validation sites)"
    return key.removeprefix("r_")


def summary_markdown(summary: dict, title: str = "Sweep") -> str:
    configurations = summary["configurations"]
    targets = list(dict.fromkeys(t for c in configurations.values() for t in c["targets"]))
    lines = [f"# {title}", "",
             f"{summary['runs']} runs: {summary['finished']} finished, {summary['failed']} failed. "
             "Values are mean ± sample standard deviation over seeds and folds.", "",
             "## Validation KGE", "",
             "| configuration | runs | mean KGE | " + " | ".join(t.upper() for t in targets) + " |",
             "|---|---|---|" + "---|" * len(targets)]
    for name, c in configurations.items():
        cells = [plus_minus(c["targets"].get(t, {}).get("val_kge")) for t in targets]
        lines.append(f"| {name} | {c['finished']}" + (f" (+{c['failed']} failed)" if c["failed"] else "") +
                     f" | {plus_minus(c['mean_val_kge'])} | " + " | ".join(cells) + " |")
    lines += ["", "## Train / validation KGE", "", "| configuration | " + " | ".join(t.upper() for t in targets) + " |",
              "|---|" + "---|" * len(targets)]
    for name, c in configurations.items():
        cells = [f"{plus_minus(c['targets'][t].get('train_kge'))} / {plus_minus(c['targets'][t].get('val_kge'))}"
                 if t in c["targets"] else "–" for t in targets]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    recovery = [(n, p, s) for n, c in configurations.items() for p, s in c["recovery"].items()]
    if recovery:
        lines += ["", "## Parameter recovery (r of learned vs true)", "", "| configuration | parameter | r |",
                  "|---|---|---|"]
        lines += [f"| {n} | {_recovery_label(p)} | {plus_minus(s)} |" for n, p, s in recovery]
    if summary.get("differences"):
        lines += ["", "## Differences in mean validation KGE", "",
                  "| a | b | a − b | sd of the difference | beyond 2 sd |", "|---|---|---|---|---|"]
        lines += [f"| {d['a']} | {d['b']} | {number(d['difference'], 3)} | {number(d['sd'], 3)} | "
                  f"{'yes' if d['beyond_2sd'] else 'no'} |" for d in summary["differences"]]
    if summary["failures"]:
        lines += ["", "## Failed runs", ""] + [f"- `{f['name']}`: {f['error']}" for f in summary["failures"]]
    lines += ["", f"Figure: `{SUMMARY_FIGURE}` (validation KGE per target, error bars ± 1 sd).", ""]
    return "\n".join(lines)


def summary_figure(summary: dict, path: Path) -> Path:
    """Validation KGE per target and configuration, bars at the mean with ± 1 sd error bars."""
    from core.report.figures import kge_bars

    return kge_bars(summary["configurations"], path)


def write_summary(table: pd.DataFrame, out: Path, title: str = "Sweep") -> dict:
    summary = summarize(table)
    (out / SUMMARY_JSON).write_text(json.dumps(json_safe(summary), indent=2))
    (out / SUMMARY_MD).write_text(summary_markdown(summary, title))
    if summary["finished"]:
        summary_figure(summary, out / SUMMARY_FIGURE)
    return summary
