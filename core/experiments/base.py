"""What every experiment shares: its options, and running its plans into one results folder."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import HybridlabError
from ..evaluation import Run
from ..execute import RunObserver, execute, load_plan_data
from ..plan import RunPlan


@dataclass
class ExperimentOptions:
    """Settings an experiment's configurations share. n_sites: sites (or profiles) of the built-in
    data (None: the full set); configurations: a subset of the experiment's (None: all)."""

    split: str = "site"
    epochs: int = 1000
    patience: int = 100
    n_sites: int | None = None
    seed: int = 0
    configurations: list[str] | None = None


@dataclass(frozen=True)
class Experiment:
    """name, description; plans(options) -> configuration name -> plan; report(out, runs, options,
    seconds) -> summary dict (writes results.json, tables and figures)."""

    name: str
    description: str
    plans: Callable[[ExperimentOptions], dict[str, RunPlan]]
    report: Callable[[Path, dict[str, Run], ExperimentOptions, float], dict]
    #: optional analysis of one finished run before it is written (adds to its metrics)
    analyse: Callable[[str, Run, ExperimentOptions], None] | None = None


def chosen(all_plans: dict[str, RunPlan], options: ExperimentOptions) -> dict[str, RunPlan]:
    names = options.configurations or list(all_plans)
    unknown = [n for n in names if n not in all_plans]
    if unknown:
        raise HybridlabError(f"unknown configuration(s) {', '.join(unknown)}; use {', '.join(all_plans)}")
    return {n: all_plans[n] for n in names}


def run_experiment(experiment: Experiment, out: str | Path, options: ExperimentOptions,
                   observe: Callable[[str], RunObserver] | None = None, log: Callable[[str], None] = print) -> dict:
    """Execute every configuration, write one run folder each under ``out`` and the experiment's
    report; returns its summary. observe: configuration name -> observer (e.g. a progress bar)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plans = chosen(experiment.plans(options), options)
    start = time.perf_counter()
    first = next(iter(plans.values()))
    data = load_plan_data(first)
    log(f"data: {data.name}, {len(data.frame)} rows, {data.frame[data.id].nunique()} groups, "
        f"{len(data.predictors)} predictors ({time.perf_counter() - start:.1f} s)")
    runs: dict[str, Run] = {}
    for name, plan in plans.items():
        run = execute(plan, observer=observe(name) if observe else None)
        if experiment.analyse is not None:
            experiment.analyse(name, run, options)
        run.save(out / name)
        runs[name] = run
        log(f"{name}: mean validation KGE {run.metrics['mean_val_kge']:.3f}, {run.metrics['epochs_run']} epochs, "
            f"{run.metrics['train_seconds']:.0f} s")
    summary = experiment.report(out, runs, options, time.perf_counter() - start)
    log(f"results in {out} ({summary['total_seconds']:.0f} s in all)")
    return summary
