"""The report's SOC experiment: pure network vs three hybrid role configurations.

Settings as in the report (section 4.6, summarised in ``docs/science.md``): dense 256-128-64-32,
sigmoid, dropout 0.3, RMSprop lr 0.01, batch 2048, up to 1000 epochs, patience 100, loss
mean(1 - KGE), split 80/20 by site (or, with ``split="temperature"``, validation on the warmest
fifth of the sites).
"""
from __future__ import annotations

import json
from pathlib import Path

from core.report import figures
from core.io.json_files import json_safe
from core.metrics import log_combination
from core.formatting import number, plus_minus
from core.report.tables import interval_markdown
from core.report.strata import strata_markdown, strata_summary
from core.models import get_model
from core.hybrid.network import NetworkConfig
from core.run.plan import DataSource, RunPlan
from core.training.config import TrainConfig
from core.experiments import reference
from core.experiments.base import Experiment, ExperimentOptions

#: configuration name -> (model, role preset)
CONFIGURATIONS = {
    "neural_network": ("nn", None),
    "all_global": ("soc", "all_global"),
    "five_neural": ("soc", "five_neural"),
    "all_neural": ("soc", "all_neural"),
}
TARGETS = ("soc", "moc", "poc", "mbc")


def plans(options: ExperimentOptions) -> dict[str, RunPlan]:
    """One plan per configuration, with the report's settings."""
    data = DataSource(name="lucas-synthetic", n=options.n_sites, seed=options.seed)
    return {name: RunPlan(model=model, roles=roles, data=data, split=options.split_settings(),
                          network=NetworkConfig(),
                          train=TrainConfig(epochs=options.epochs, patience=options.patience, seed=options.seed))
            for name, (model, roles) in CONFIGURATIONS.items()}


def report(out: Path, members: dict, spread: dict, options: ExperimentOptions, seconds: float) -> dict:
    """results.json, figures and results.md; returns the summary. Tables give mean ± sd over
    seeds and folds; details and figures come from each configuration's first run."""
    first = {name: runs[0] for name, runs in members.items()}
    data = next(iter(first.values())).data
    summary = {"experiment": "soc", "split": options.split, "block_size": options.block_size, "n_sites": len(data.frame), "seed": options.seed,
               "seeds": options.seeds, "folds": options.folds, "epochs": options.epochs, "patience": options.patience,
               "total_seconds": seconds, "configurations": {name: run.metrics for name, run in first.items()},
               "spread": spread["configurations"], "differences": spread["differences"],
               "scores_by": {name: strata_summary([run.metrics for run in runs]) for name, runs in members.items()}}
    (out / "results.json").write_text(json.dumps(json_safe(summary), indent=2))
    _figures(out, first, data)
    figures.kge_bars(spread["configurations"], out / "figures" / "kge_decomposition.png")
    (out / "results.md").write_text(results_markdown(summary))
    return summary


def _figures(out: Path, runs: dict, data) -> None:
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    combinations = get_model("soc").combinations
    truth = data.frame.set_index(data.id)
    for name, r in runs.items():
        figures.observed_vs_predicted(r.predictions, r.metrics, fig_dir / f"obs_pred_{name}.png", title=name)
        if r.calibration is not None:
            figures.interval_reliability(r.calibration, fig_dir / f"intervals_{name}.png", title=name)
        if "q_max" not in r.parameters:
            continue
        figures.moc_saturation(parameters=r.parameters, predictions=r.predictions, path=fig_dir / f"moc_qmax_{name}.png",
                               title=name)
        neural = [p for p, role in r.metrics["roles"].items() if role == "neural" and f"true_{p}" in data.frame]
        if neural:
            figures.parameter_recovery(parameters=r.parameters, truth=data.frame, names=neural,
                                      path=fig_dir / f"recovery_{name}.png", title=name)
        for label, parts in combinations.items():
            if all(p in neural for p, _ in parts):
                true = truth.loc[r.parameters["id"].to_numpy()]
                figures.learned_vs_true(true=log_combination(true, parts, prefix="true_"),
                                        learned=log_combination(r.parameters, parts), label=f"log({label})",
                                        path=fig_dir / f"combination_{name}.png", title=name)


def _f(v, digits=2):
    return number(v, digits)


def _pm(spread: dict, key: str, digits: int = 2) -> str:
    return plus_minus(spread.get(key), digits)


def results_markdown(summary: dict) -> str:
    res, spread = summary["configurations"], summary["spread"]
    split_text = ("80/20 random by site" if summary["split"] == "site"
                  else "temperature-stratified: training on the colder sites, validation on the warmest fifth")
    if summary["split"] == "spatial":
        split_text = f"spatial: the sites' {number(summary.get('block_size'), 0)} km blocks, a fifth of them held out"
    if summary.get("folds"):
        split_text = f"every fold of a {summary['folds']}-fold split by {'block' if summary['split'] == 'spatial' else 'site'}"
    seeds = summary.get("seeds") or 1
    lines = [
        "# SOC experiment: pure neural network vs hybrid configurations", "",
        f"Data: lucas-synthetic, {summary['n_sites']} sites, seed {summary['seed']}. Split: {split_text}. "
        f"Up to {summary['epochs']} epochs, patience {summary['patience']}. "
        f"Training seeds {summary['seed']}..{summary['seed'] + seeds - 1}; values are mean ± sd over seeds"
        f"{' and folds' if summary.get('folds') else ''} (one value: a single run). "
        f"Total time {summary['total_seconds']:.0f} s.", "",
        "## Validation KGE (report's value on real LUCAS data in brackets, a reference only)", "",
        "| configuration | " + " | ".join(t.upper() for t in TARGETS) + " | mean | runs | epochs (first run) |",
        "|---|" + "---|" * (len(TARGETS) + 3),
    ]
    for name, m in res.items():
        targets = spread[name]["targets"]
        cells = [f"{_pm(targets[t], 'val_kge')} ({reference.fmt(name, t)})" if t in targets else "–" for t in TARGETS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {plus_minus(spread[name]['mean_val_kge'])} | "
                     f"{spread[name]['finished']} | {m['epochs_run']} |")
    if summary["split"] == "temperature":
        lines += ["", "The report's numbers in brackets come from a random split; the report planned this "
                      "temperature split but did not run it."]
    elif summary["split"] == "spatial":
        lines += ["", "The report's numbers in brackets come from a random split, not from spatial blocks."]
    beyond = [d for d in summary.get("differences", []) if d["beyond_2sd"]]
    if seeds > 1 or summary.get("folds"):
        lines += ["", "Differences in mean validation KGE larger than 2 sd of the difference: " +
                  ("; ".join(f"{d['a']} − {d['b']} = {_f(d['difference'], 3)} (sd {_f(d['sd'], 3)})" for d in beyond)
                   or "none") + "."]
    lines += ["", "## Train vs validation KGE", "",
              "| configuration | " + " | ".join(f"{t.upper()} train / val" for t in TARGETS) + " |",
              "|---|" + "---|" * len(TARGETS)]
    for name in res:
        targets = spread[name]["targets"]
        cells = [f"{_pm(targets[t], 'train_kge')} / {_pm(targets[t], 'val_kge')}" if t in targets else "–"
                 for t in TARGETS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += interval_markdown(spread, TARGETS)
    lines += strata_markdown(summary.get("scores_by") or {}, TARGETS)
    lines += ["", "## Parameter recovery (learned vs true; neural: r over all sites / validation sites; "
                  "RMSE and global values from the first run)", "",
              "| configuration | parameter | role | r | r (val) | RMSE | learned | true |", "|---|---|---|---|---|---|---|---|"]
    for name, m in res.items():
        recovery = spread[name]["recovery"]
        for p, rec in m.get("parameter_recovery", {}).items():
            if "r" in rec:
                lines.append(f"| {name} | {p} | neural | {_pm(recovery, f'r_{p}')} | {_pm(recovery, f'r_val_{p}')} | "
                             f"{_f(rec['rmse'], 3)} | | |")
            else:
                lines.append(f"| {name} | {p} | global | | | | {rec['learned']:.4g} | {rec['true']:.4g} (mean) |")
    combos = [(name, label) for name, m in res.items() for label in m.get("parameter_recovery_combinations", {})]
    if combos:
        lines += ["", "Combinations the data constrain (for small x_p, POC ≈ k_m0 · f_poc · I / (v_max0 · MBC), "
                      "so POC pins down only this ratio, not its parts):", "",
                  "| configuration | combination | r of logs |", "|---|---|---|"]
        lines += [f"| {name} | {label} | {_pm(spread[name]['recovery'], f'r_log_{label}')} |" for name, label in combos]
    lines += ["", "## Diagnostics (first run)", "",
              "| configuration | infeasible sites | predicted MOC/q_max median (share > 1) | "
              "observed MOC/q_max median (share > 1) | neural parameters within 1 % of a bound |",
              "|---|---|---|---|---|"]
    for name, m in res.items():
        d = m.get("diagnostics") or {}
        if "infeasible_fraction" not in d:
            continue
        pr, ob = d["moc_qmax_ratio"]["predicted"], d["moc_qmax_ratio"].get("observed", {})
        bounds = ", ".join(f"{p} {100 * v:.0f} %" for p, v in d.get("share_at_bound", {}).items() if v > 0.005) or "none"
        lines.append(f"| {name} | {100 * d['infeasible_fraction']:.1f} % | {_f(pr['median'])} "
                     f"({_f(100 * pr['share_above_1'], 1)} %) | {_f(ob.get('median'))} "
                     f"({_f(100 * ob['share_above_1'], 1) if ob.get('share_above_1') is not None else '–'} %) | {bounds} |")
    lines += ["", "## Figures", "", "- `figures/obs_pred_<configuration>.png`: observed vs predicted, train and validation",
              "- `figures/kge_decomposition.png`: KGE, r, alpha, beta per target and configuration (mean ± sd)",
              "- `figures/intervals_<configuration>.png` (with `--members`): reliability diagram and PIT histogram",
              "- `runs/<run>/reliability_by_stratum.png` (calibrated runs): coverage per AOA side, stratum class and "
              "DI bin",
              "- `figures/moc_qmax_<configuration>.png`: predicted and observed MOC / q_max (the report's Figure 8)",
              "- `figures/recovery_<configuration>.png`: learned vs true parameters",
              "- `figures/combination_<configuration>.png`: learned vs true log(f_poc · k_m0 / v_max0)", ""]
    return "\n".join(lines)


EXPERIMENT = Experiment("soc", "the report's SOC comparison: pure network vs all_global, five_neural, all_neural",
                        plans, report)
