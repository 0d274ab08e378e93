"""``hybridlab experiment MODEL --data FILE --columns MAP --baselines nn,rf,qrf ...``: the hybrid
against the methods people use instead, on the same seeds, folds and rows
(:mod:`core.baselines`). Without ``--baselines`` or ``--data`` the name is one of the report's
experiments (``soc``, ``swrc``) as before."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import HybridlabError

#: the flags that only a comparison takes
COMPARISON_FLAGS = ("baselines", "data", "columns", "roles", "targets")


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """The comparison's flags on the ``experiment`` parser."""
    from core.baselines import BASELINES

    p.add_argument("--baselines", default=None, metavar="NAMES",
                   help="compare the model NAME against these methods, comma-separated: "
                        + "; ".join(f"{b.name}: {b.description}" for b in BASELINES.values()).replace("%", "%%"))
    p.add_argument("--data", default=None, help="with --baselines: a CSV/Parquet file (or a built-in set's name)")
    p.add_argument("--columns", default=None, help="the data file's column map (JSON file or text)")
    p.add_argument("--roles", default=None, help="the hybrid's role preset or JSON (default: the model's)")
    p.add_argument("--targets", default=None, help="comma-separated targets to fit (default: all the data give)")
    p.add_argument("--drop-incomplete", action=argparse.BooleanOptionalAction, default=None,
                   help="rows lacking a forcing or predictor value: left out (default) or refused")


def wants_comparison(a: argparse.Namespace) -> bool:
    """True when the flags ask for a comparison; one line when a comparison flag comes without it."""
    if a.baselines is not None or a.data is not None:
        return True
    stray = [f"--{flag}" for flag in COMPARISON_FLAGS if getattr(a, flag, None) is not None]
    if stray:
        raise HybridlabError(f"{', '.join(stray)} apply to a comparison: give --baselines (and --data FILE --columns MAP)")
    return False


def comparison_plan(a: argparse.Namespace):
    """The hybrid's run plan from the flags: model, data, roles, targets, seed, precision."""
    from core.datasets import builtin_names, read_mapping
    from core.run.plan import RunPlan
    from core.models import get_model
    from core.cli.arguments import json_value

    if not get_model(a.name).has_parameters:
        raise HybridlabError(f"model {a.name} is the pure network; compare a mechanistic model (and give nn in "
                             f"--baselines)")
    source = None
    if a.data is not None and a.data not in builtin_names():
        if a.columns is None:
            raise HybridlabError(f"{a.data}: a data file needs a column mapping (--columns MAP.json)")
        source = {"path": a.data, "columns": read_mapping(a.columns)}
        if a.drop_incomplete is not None:
            source["drop_incomplete"] = a.drop_incomplete
    elif a.data is not None or a.n_sites is not None:
        name = a.data or RunPlan(model=a.name).data.name
        source = {"name": name, "n": a.n_sites, "seed": a.seed}
    roles = json_value(a.roles, "--roles") if a.roles else None
    targets = [t.strip() for t in a.targets.split(",") if t.strip()] if a.targets else None
    return RunPlan(model=a.name, data=source, roles=roles if roles is not None else a.roles, targets=targets,
                   train={"seed": a.seed, "precision": a.precision})


def run_with_progress(a: argparse.Namespace, run) -> dict:
    """``run(executor, log=, on_row=, on_plan=, stop_event=)`` on the executor the flags ask for,
    with the sweep's progress on stderr (none with --quiet) and Ctrl-C stopping it cleanly."""
    from core.sweep import ExecutorOptions
    from core.cli.progress import SweepProgress, stop_on_signals

    executor = ExecutorOptions(a.workers, a.threads_per_worker, a.scheduler)
    progress = SweepProgress(a.quiet)

    def log(message: str) -> None:
        if not a.quiet:
            print(message, file=sys.stderr, flush=True)

    try:
        with stop_on_signals() as stop:
            return run(executor, log=log, on_row=progress.finished, on_plan=progress.start, stop_event=stop)
    finally:
        progress.close()


def cmd_compare(a: argparse.Namespace) -> int:
    from core.baselines import parse_baselines
    from core.baselines.experiment import run_comparison
    from core.experiments import ExperimentOptions
    from core.io.outputs import check_not_input

    plan = comparison_plan(a)
    baselines = parse_baselines(a.baselines or "")
    if a.name in {b.name for b in baselines}:
        raise HybridlabError(f"--baselines {a.name}: the model is {a.name} already")
    check_not_input(Path(a.out), [p for p in (a.data, a.columns) if p and Path(p).exists()])
    options = ExperimentOptions(split=a.split, epochs=a.epochs, patience=a.patience, seed=a.seed, seeds=a.seeds,
                                folds=a.folds, pack_seeds=a.pack_seeds, precision=a.precision, members=a.members,
                                calibration=a.calibration, block_size=a.block_size)
    results = run_with_progress(a, lambda executor, **hooks: run_comparison(plan, baselines, a.out, options, executor,
                                                                             **hooks))
    print((Path(a.out) / "results.md").read_text())
    print(f"results in {a.out}/results.md and results.json")
    return 1 if results.get("failed") else 0
