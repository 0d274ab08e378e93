"""``hybridlab experiment``: one of the report's experiments, or a model against baselines."""
from __future__ import annotations

import argparse

from core.cli.arguments import add_executor_arguments, add_stratum_argument
from core.cli.compare import add_compare_arguments


def add_command(sub) -> None:
    from core.experiments import EXPERIMENTS

    p = sub.add_parser("experiment", help="run one of the report's experiments, or compare a model against baselines")
    p.add_argument("name", help="; ".join(f"{e.name}: {e.description}" for e in EXPERIMENTS.values())
                   + "; or, with --baselines, the model to compare")
    p.add_argument("--out", required=True, help="results folder")
    p.add_argument("--split", default="site", choices=["site", "temperature", "spatial"],
                   help="site (80/20), temperature, or spatial (blocks of --block-size km)")
    p.add_argument("--block-size", type=float, default=None, metavar="KM",
                   help="side of the square blocks of --split spatial in km, e.g. 300")
    p.add_argument("--epochs", type=int, default=None,
                   help="maximum epochs per configuration (default 1000; with --baselines the model's)")
    p.add_argument("--patience", type=int, default=None,
                   help="early-stopping patience (default 100; with --baselines the model's)")
    p.add_argument("--n-sites", type=int, default=None,
                   help="number of synthetic sites (soc, default 16743) or profiles (swrc, default 400)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--configurations", default=None, help="comma-separated subset of the experiment's configurations")
    p.add_argument("--seeds", type=int, default=1, help="training seeds SEED..SEED+N-1 per configuration (default 1)")
    p.add_argument("--folds", type=int, default=None, help="run every fold of a K-fold split by site (by block with --split spatial)")
    p.add_argument("--pack-seeds", action="store_true",
                   help="train a configuration's seeds together as one ensemble run (sharing the first seed's split)")
    p.add_argument("--precision", default="float32", choices=["float32", "bf16-mixed"],
                   help="bf16-mixed: the network's matrix products in bfloat16 (CPUs with bf16 matrix units)")
    p.add_argument("--members", type=int, default=1,
                   help="every run an ensemble of K members with calibrated prediction intervals; each seed gives "
                        "one ensemble (default 1)")
    p.add_argument("--calibration", type=float, default=None,
                   help="share of the training sites held out to calibrate intervals (default 0.15 with --members)")
    add_stratum_argument(p)
    add_compare_arguments(p)
    add_executor_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_experiment)


def cmd_experiment(a: argparse.Namespace) -> int:
    from core.experiments import ExperimentOptions, get_experiment, run_experiment
    from core.cli.compare import cmd_compare, run_with_progress, wants_comparison

    if wants_comparison(a):
        return cmd_compare(a)
    experiment = get_experiment(a.name)
    options = ExperimentOptions(split=a.split, epochs=1000 if a.epochs is None else a.epochs,
                                patience=100 if a.patience is None else a.patience, n_sites=a.n_sites, seed=a.seed,
                                configurations=a.configurations.split(",") if a.configurations else None,
                                seeds=a.seeds, folds=a.folds, pack_seeds=a.pack_seeds, precision=a.precision,
                                members=a.members, calibration=a.calibration, block_size=a.block_size,
                                stratum=a.stratum)
    results = run_with_progress(a, lambda executor, **hooks: run_experiment(experiment, a.out, options, executor,
                                                                             **hooks))
    print(f"results in {a.out}/results.md")
    return 1 if results["failed"] else 0
