"""What every experiment shares: its options, and running its configurations as a sweep.

An experiment is a sweep (:mod:`core.sweep`) over its configurations, ``seeds`` seeds and
optionally every fold of a k-fold split, on the Dask executor. Its report reads the finished
run folders back as :class:`Member` objects and writes tables with mean ± sd and figures.
"""
from __future__ import annotations

import math

import time
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core.errors import HybridlabError
from core.training.splits import INTERVAL_CALIBRATION
from core.run.execute import load_plan_data
from core.identify import after_sweep
from core.run.plan import RunPlan
from core.run.loaded import load_run
from core.run.store import MEMBERS_TABLE
from core.sweep import FINISHED, MAX_RUNS, ExecutorOptions, SweepPlan, SweepTask, run_sweep

#: the sweep task's analysis hook (:mod:`core.sweep.task`): an experiment's analyse step on a worker
ANALYSE_HOOK = "core.experiments:analyse_run"


@dataclass
class ExperimentOptions:
    """Settings an experiment's configurations share. n_sites: sites (or profiles) of the built-in
    data (None: the full set); seed: data seed and first training seed; seeds: training seeds
    seed..seed+seeds-1; folds: run every fold of a k-fold split by site (None: ``split``);
    configurations: a subset of the experiment's (None: all); pack_seeds: a configuration's seeds
    train as the members of one ensemble run (:class:`~core.sweep.SweepPlan`); precision:
    float32 or bf16-mixed; members: every run an ensemble of this many members (each seed then
    gives one ensemble); calibration: share of the training sites held out to calibrate
    prediction intervals (None: 0.15 for ensembles, else none); block_size: the blocks of a
    spatial split, km; stratum: a data column (or 0/1 indicator columns) whose classes the
    validation scores are also reported by (:mod:`core.run.strata`)."""

    split: str = "site"
    epochs: int = 1000
    patience: int = 100
    n_sites: int | None = None
    seed: int = 0
    configurations: list[str] | None = None
    seeds: int = 1
    folds: int | None = None
    pack_seeds: bool = False
    precision: str = "float32"
    members: int = 1
    calibration: float | None = None
    block_size: float | None = None
    stratum: str | None = None

    def split_settings(self) -> dict:
        """The plans' split block: the kind, and for a spatial split its block size."""
        if self.split == "spatial":
            return {"kind": self.split, "block_size": self.block_size, "folds": None}  # folds: the sweep's
        return {"kind": self.split}

    @property
    def calibration_share(self) -> float:
        """The calibration share every run holds out."""
        if self.calibration is not None:
            return self.calibration
        return INTERVAL_CALIBRATION if self.members > 1 else 0.0


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


class Member:
    """One finished run of an experiment, read back from its run folder (or one member of an
    ensemble run, when the sweep packed the seeds): metrics, plan, tables, model and data (loaded
    when first asked for; built-in data are cached per process)."""

    def __init__(self, configuration: str, row: dict):
        self.configuration, self.seed, self.fold = configuration, int(row["seed"]), row.get("fold")
        self.path = Path(row["out"])
        self._loaded = load_run(self.path)
        self.plan: RunPlan = self._loaded.plan
        self.metrics: dict = self._loaded.metrics
        self.config: dict = self._loaded.config
        self.model = self._loaded.model
        self.member = None
        if _present(row.get("member")):  # one member of an ensemble run that packed the seeds
            self.member = int(row["member"])
            self.metrics = next(m for m in self.metrics["members"] if m["member"] == self.member)
            self.plan = self.plan.replace(train=replace(self.plan.train, seed=self.seed, members=1))
            self.model = self.model.member(self.member)
        self.extras: dict = {}
        #: calibration.json of an ensemble run with intervals (None for one member of a packed run)
        self.calibration = self._loaded.calibration if self.member is None else None

    @cached_property
    def _member_table(self) -> pd.DataFrame:
        table = pd.read_parquet(self.path / MEMBERS_TABLE)
        return table[table["member"] == self.member].drop(columns=["member", "seed"]).reset_index(drop=True)

    @cached_property
    def predictions(self) -> pd.DataFrame:
        table = pd.read_parquet(self.path / "predictions.parquet")
        if self.member is None:
            return table
        predicted = [c for c in table.columns if c.endswith("_pred")]
        own = table.drop(columns=predicted + [c for c in table.columns if c.endswith("_sd")])
        return own.assign(**{c: self._member_table[c].to_numpy() for c in predicted})

    @cached_property
    def parameters(self) -> pd.DataFrame:
        if self.member is None:
            return pd.read_parquet(self.path / "parameters.parquet")
        return self._member_table.drop(columns=[c for c in self._member_table.columns if c.endswith("_pred")])

    @cached_property
    def data(self):
        return load_plan_data(self.plan)

    @property
    def val_rows(self) -> np.ndarray:
        return np.flatnonzero(self.predictions["split"].to_numpy() == "val")

@dataclass(frozen=True)
class Experiment:
    """name, description; plans(options) -> configuration name -> plan; report(out, members,
    summary, options, seconds) -> results dict (writes results.json, tables and figures), with
    members: configuration -> its finished runs (first: the first seed and fold) and summary: the
    sweep's mean ± sd summary (:func:`core.sweep.results.summarize`)."""

    name: str
    description: str
    plans: Callable[[ExperimentOptions], dict[str, RunPlan]]
    report: Callable[[Path, dict[str, list[Member]], dict, ExperimentOptions, float], dict]
    #: optional analysis of one finished run on its worker before it is written (adds to its metrics)
    analyse: Callable[[str, object, ExperimentOptions], None] | None = None


def chosen(all_plans: dict[str, RunPlan], options: ExperimentOptions) -> dict[str, RunPlan]:
    names = options.configurations or list(all_plans)
    unknown = [n for n in names if n not in all_plans]
    if unknown:
        raise HybridlabError(f"unknown configuration(s) {', '.join(unknown)}; use {', '.join(all_plans)}")
    return {n: all_plans[n] for n in names}


def experiment_sweep(experiment: Experiment, options: ExperimentOptions) -> SweepPlan:
    """The experiment as a sweep plan: its configurations as complete plans over the first."""
    from core.training.config import MAX_MEMBERS
    from core.validation import check_integer

    if options.seeds < 1:
        raise HybridlabError(f"--seeds must be at least 1, got {options.seeds}")
    check_integer(options.members, "--members", minimum=1, maximum=MAX_MEMBERS)  # before seeds are counted in steps of it
    if options.seeds > MAX_RUNS:
        raise HybridlabError(f"--seeds {options.seeds:,} is more runs than a sweep may hold ({MAX_RUNS:,})")
    if options.folds is not None and options.split not in ("site", "spatial"):
        raise HybridlabError("--folds runs a k-fold split by site (or by block with --split spatial); leave out "
                             "--split temperature")
    if options.members > 1 and options.pack_seeds:
        raise HybridlabError("--members trains every seed as its own ensemble; --pack-seeds packs seeds into one: "
                             "give one of them")
    plans = {name: plan.to_dict() for name, plan in chosen(experiment.plans(options), options).items()}
    train = {"precision": options.precision, "members": options.members}
    split = {"calibration": options.calibration_share}
    stratum = {"stratum": options.stratum} if options.stratum is not None else {}
    plans = {name: {**plan, "train": {**plan["train"], **train}, "split": {**plan["split"], **split}, **stratum}
             for name, plan in plans.items()}
    return SweepPlan(base=next(iter(plans.values())), configurations=plans,
                     seeds=list(range(options.seed, options.seed + options.seeds * options.members, options.members)),
                     folds=options.folds,
                     pack_seeds=options.pack_seeds)


def run_experiment(experiment: Experiment, out: str | Path, options: ExperimentOptions,
                   executor: ExecutorOptions | None = None, on_row: Callable[[dict], None] | None = None,
                   log: Callable[[str], None] = print, stop_event=None,
                   on_plan: Callable[[int, int], None] | None = None) -> dict:
    """Run the experiment's sweep into ``out`` (``runs/``, ``sweep.parquet``, ``summary.md``),
    then its report (``results.json``, ``results.md``, ``figures/``); returns the report's dict.
    on_plan / on_row: as for :func:`core.sweep.run_sweep` (progress)."""
    out = Path(out)
    sweep = experiment_sweep(experiment, options)
    start = time.perf_counter()

    def analysis(task: SweepTask) -> dict:
        return {"hook": ANALYSE_HOOK, "arguments": {"experiment": experiment.name,
                                                    "configuration": task.axes["configuration"],
                                                    "options": {**asdict(options), "seed": task.axes["seed"]}}}

    def planned(to_run: int, skipped: int) -> None:
        log(f"{experiment.name}: {len(sweep.configurations)} configurations × {len(sweep.seeds)} seeds"
            + (f" × {options.folds} folds" if options.folds else "") + " on the Dask executor")
        if on_plan is not None:
            on_plan(to_run, skipped)

    outcome = run_sweep(sweep, out, options=executor, on_row=on_row, on_plan=planned, stop_event=stop_event,
                        analysis=analysis if experiment.analyse else None, after=[after_sweep],
                        title=f"{experiment.name} experiment")
    members: dict[str, list[Member]] = {}
    for row in outcome.table.to_dict("records"):
        if row["status"] == FINISHED:
            members.setdefault(row["configuration"], []).append(Member(row["configuration"], row))
    if outcome.interrupted or not members:
        raise HybridlabError(f"{experiment.name}: {'interrupted' if outcome.interrupted else 'no run finished'}; "
                             f"see {out / 'summary.md'}; run the same command again to resume")
    results = experiment.report(out, members, outcome.summary, options, time.perf_counter() - start)
    results["failed"] = outcome.summary["failed"]
    log(f"results in {out} ({results['total_seconds']:.0f} s in all; {outcome.summary['finished']} runs finished, "
        f"{outcome.summary['failed']} failed)")
    return results
