"""``hybridlab sweep``: many runs on the Dask executor, from flags or a sweep plan file.

    hybridlab sweep --model soc --roles all_global,five_neural,all_neural --seeds 5 --out runs/soc-sweep
    hybridlab sweep --plan sweep.yaml --out runs/my-sweep --scheduler tcp://host:8786
"""
from __future__ import annotations

import argparse
import json
import sys

from core.errors import HybridlabError
from core.sweep.plan import MAX_RUNS
from core.cli.arguments import add_executor_arguments, add_plan_arguments, add_twin_arguments, dump_or_require_out, json_value, plan_from_args
from core.formatting import short_repr

EXIT_FAILED_RUNS, EXIT_INTERRUPTED = 1, 130
#: run-plan flags that a --plan file replaces (its base holds them)
PLAN_FLAGS = ("config", "model", "data", "columns", "drop_incomplete", "n_sites", "roles", "targets", "split",
              "val_fraction", "split_column", "fold", "epochs", "patience", "batch_size", "lr", "optimizer", "loss", "weighting",
              "global_start", "neural_start", "hidden", "activation", "dropout", "seed", "device", "block_size", "coordinates")


def add_command(sub) -> None:
    p = sub.add_parser("sweep", help="many runs (role presets, seeds, folds, settings) on a Dask cluster")
    add_plan_arguments(p)
    p.add_argument("--plan", default=None, help="sweep plan YAML (base, configurations, seeds, folds, splits, grid)")
    p.add_argument("--seeds", type=int, default=None, help="run seeds SEED..SEED+N-1 (default 1: --seed alone)")
    p.add_argument("--max-runs", type=int, default=MAX_RUNS,
                   help=f"refuse a sweep that expands to more runs (default {MAX_RUNS:,}), checked before any is built")
    p.add_argument("--grid", action="append", default=[], metavar="SETTING=V1,V2,...",
                   help="sweep a training or network setting, e.g. lr=0.01,0.001 or hidden='64,32;128' (repeatable)")
    add_executor_arguments(p)
    add_twin_arguments(p)
    p.add_argument("--pack-seeds", action="store_true",
                   help="train a configuration's consecutive seeds together as the members of one ensemble run "
                        "(they share the first seed's split; one row per seed either way; docs/ensembles.md)")
    p.add_argument("--out", default=None, help="sweep folder (runs/, sweep.parquet, summary.md)")
    p.add_argument("--dump-plan", action="store_true", help="print the sweep plan these flags stand for and exit")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_sweep)


def _role_entries(text: str | None) -> list:
    """--roles as a list: comma-separated presets, one JSON map, or a JSON list of presets and maps."""
    if text is None:
        return [None]
    value = json_value(text, "--roles")
    if value is not None:
        return value if isinstance(value, list) else [value]
    return [name.strip() for name in text.split(",") if name.strip()]


def _role_label(roles) -> str:
    if roles is None or isinstance(roles, str):
        return roles or "default"
    neural = [name for name, role in roles.items() if role == "neural"]
    return "neural=" + "+".join(neural) if neural else "custom"


def _configurations(models: list[str], roles: list) -> dict[str, dict]:
    from core.models import get_model

    configurations = {}
    for model in models:
        spec = get_model(model)
        if not spec.has_parameters:
            configurations[model] = {"model": model, "roles": None, "bounds": None, "fixed": None, "options": None,
                                     "targets": None}
            continue
        for entry in roles:
            name = _role_label(entry) if len(models) == 1 else f"{model}-{_role_label(entry)}"
            configurations[name] = {"model": model, "roles": entry}
    return configurations


def _grid(items: list[str]) -> dict[str, list]:
    from core.validation import parse_hidden

    grid = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise HybridlabError(f"--grid expects SETTING=V1,V2,..., got {short_repr(item)}")
        key = key.strip().replace("-", "_")
        if key.endswith("hidden"):
            grid[key] = [list(parse_hidden(v)) for v in text.split(";")]
            continue
        values = []
        for v in text.split(","):
            try:
                values.append(json.loads(v))
            except json.JSONDecodeError:
                values.append(v.strip())
        grid[key] = values
    return grid


def sweep_from_args(a: argparse.Namespace):
    """The sweep plan: from --plan (with --seeds / --folds on top), or from the run flags."""
    from core.sweep import SweepPlan

    first_seed = a.seed or 0
    if a.plan:
        given = [f"--{f.replace('_', '-')}" for f in PLAN_FLAGS if getattr(a, f, None) not in (None, [])]
        if given or a.bounds or a.fix or a.option or a.grid:
            raise HybridlabError(f"--plan describes the whole sweep; put {', '.join(given) or 'these settings'} "
                                 f"in its base or grid instead")
        values = SweepPlan.read(a.plan, a.max_runs).to_dict()
    else:
        models = [m.strip() for m in (a.model or "").split(",") if m.strip()] or [None]
        splits = [s.strip() for s in a.split.split(",")] if a.split and "," in a.split else None
        roles = _role_entries(a.roles)
        base_args = argparse.Namespace(**{**vars(a), "model": models[0], "roles": None,
                                          "split": None if splits else a.split})
        if a.folds is not None and a.fold is None:
            base_args.folds = None
        base = plan_from_args(base_args).to_dict()
        values = {"base": base, "configurations": _configurations([m or base["model"] for m in models], roles),
                  "splits": splits, "grid": _grid(a.grid)}
        if a.folds is not None and a.fold is None:
            values["folds"] = a.folds
    if a.seeds is not None:
        if a.seeds < 1:
            raise HybridlabError(f"--seeds must be at least 1, got {a.seeds}")
        if a.seeds > a.max_runs:  # before a list of that many seeds is made
            raise HybridlabError(f"--seeds {a.seeds:,} is more runs than the limit of {a.max_runs:,}; raise --max-runs")
        values["seeds"] = list(range(first_seed, first_seed + a.seeds))
    elif not a.plan:
        values["seeds"] = [first_seed]
    if a.plan and a.folds is not None:
        values["folds"] = a.folds
    if a.pack_seeds:
        values["pack_seeds"] = True
    return SweepPlan.from_dict({k: v for k, v in values.items() if v is not None}, a.max_runs)


def cmd_sweep(a: argparse.Namespace) -> int:
    from core.identify import after_sweep
    from core.identify.report import after_sweep_with_twins
    from core.sweep import SUMMARY_MD, ExecutorOptions, run_sweep
    from core.cli.arguments import twin_design
    from core.cli.notes import print_file_notes
    from core.cli.progress import SweepProgress, stop_on_signals

    options = ExecutorOptions(a.workers, a.threads_per_worker, a.scheduler)
    sweep = sweep_from_args(a)
    design = twin_design(a)
    if design is not None and len(sweep.seeds) < 2 and not sweep.folds:
        raise HybridlabError("--twins needs an ensemble to check: give --seeds 2 or more")
    if dump_or_require_out(sweep, a.dump_plan, a.out):
        return 0
    print_file_notes(sweep.base)
    progress = SweepProgress(a.quiet)
    try:
        with stop_on_signals() as stop:
            outcome = run_sweep(sweep, a.out, options=options, on_row=progress.finished, on_plan=progress.start,
                                stop_event=stop,
                                after=[after_sweep if design is None else after_sweep_with_twins(design, options)])
    finally:
        progress.close()
    summary = outcome.summary
    print(f"{summary['finished']} of {len(sweep.tasks())} runs finished ({outcome.skipped} from before), "
          f"{summary['failed']} failed; summary in {a.out}/{SUMMARY_MD}")
    for failure in summary["failures"]:
        print(f"failed: {failure['name']}: {failure['error']}", file=sys.stderr)
    if outcome.interrupted:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_FAILED_RUNS if summary["failed"] else 0
