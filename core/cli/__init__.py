"""Command line: ``hybridlab train | predict | experiment | models | data | bench`` (also
``python -m core``), plus the commands other installed packages register under the entry-point
group ``hybridlab.commands`` (the dashboard adds ``serve``). Bad input ends with one line naming
what is wrong and exit code 2."""
from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import entry_points

from ..errors import HybridlabError
from ..formatting import short_text
from .arguments import EXIT_USAGE, OneLineParser, add_plan_arguments
from .commands import BENCH_MODE_GROUP, cmd_bench, cmd_data, cmd_experiment, cmd_map, cmd_models, cmd_predict, cmd_train
from .compare import add_compare_arguments
from .fluxnet import add_importers
from .lucas import add_lucas_arguments
from .identify import add_command as add_identify_command
from .roles import add_command as add_roles_command
from .sweep import add_command as add_sweep_command
from .sweep import add_executor_arguments

COMMAND_GROUP = "hybridlab.commands"


def _add_builtin_commands(sub) -> None:
    p = sub.add_parser("train", help="train one model and write a run directory")
    add_plan_arguments(p)
    p.add_argument("--out", default=None, help="run directory to write")
    p.add_argument("--dump-config", action="store_true", help="print the plan these flags stand for (YAML) and exit")
    p.add_argument("--overwrite", action="store_true", help="replace --out even if it holds files hybridlab did not write")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads (default: the cores this process may use, fewer where other processes keep "
                        "them busy; or $HYBRIDLAB_THREADS)")
    p.add_argument("--verbose", action="store_true", help="say how many threads it trains with, and why")
    p.set_defaults(func=cmd_train)
    add_sweep_command(sub)
    add_identify_command(sub)
    add_roles_command(sub)
    p = sub.add_parser("predict", help="predict with a saved run on new data")
    p.add_argument("--run", required=True, help="run directory written by 'hybridlab train'")
    p.add_argument("--input", required=True, help="CSV/Parquet file, or JSON (object or list of objects)")
    p.add_argument("--at", action="append", default=[], metavar="FORCING=V1,V2,...",
                   help="evaluate at these forcing values instead of the input's column, e.g. h=63,15849 "
                        "for water contents at pF 1.8 and 4.2 (repeatable)")
    p.add_argument("--interval", type=float, default=None, metavar="LEVEL",
                   help="add <target>_lower and <target>_upper: the calibrated LEVEL prediction interval, e.g. 0.9 "
                        "(the run needs calibration sites: train --calibration 0.15)")
    p.add_argument("--out", default=None, help="write a CSV or .parquet file instead of printing")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_predict)
    from ..experiments import EXPERIMENTS
    p = sub.add_parser("experiment", help="run one of the report's experiments, or compare a model against baselines")
    p.add_argument("name", help="; ".join(f"{e.name}: {e.description}" for e in EXPERIMENTS.values())
                   + "; or, with --baselines, the model to compare")
    p.add_argument("--out", required=True, help="results folder")
    p.add_argument("--split", default="site", choices=["site", "temperature"], help="site (80/20) or temperature")
    p.add_argument("--epochs", type=int, default=None,
                   help="maximum epochs per configuration (default 1000; with --baselines the model's)")
    p.add_argument("--patience", type=int, default=None,
                   help="early-stopping patience (default 100; with --baselines the model's)")
    p.add_argument("--n-sites", type=int, default=None,
                   help="number of synthetic sites (soc, default 16743) or profiles (swrc, default 400)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--configurations", default=None, help="comma-separated subset of the experiment's configurations")
    p.add_argument("--seeds", type=int, default=1, help="training seeds SEED..SEED+N-1 per configuration (default 1)")
    p.add_argument("--folds", type=int, default=None, help="run every fold of a K-fold split by site")
    p.add_argument("--pack-seeds", action="store_true",
                   help="train a configuration's seeds together as one ensemble run (sharing the first seed's split)")
    p.add_argument("--precision", default="float32", choices=["float32", "bf16-mixed"],
                   help="bf16-mixed: the network's matrix products in bfloat16 (CPUs with bf16 matrix units)")
    p.add_argument("--members", type=int, default=1,
                   help="every run an ensemble of K members with calibrated prediction intervals; each seed gives "
                        "one ensemble (default 1)")
    p.add_argument("--calibration", type=float, default=None,
                   help="share of the training sites held out to calibrate intervals (default 0.15 with --members)")
    add_compare_arguments(p)
    add_executor_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_experiment)
    p = sub.add_parser("bench", help="measure training speed against plain PyTorch and the matmul peak")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--quick", action="store_true", help="a few epochs, no full experiment (under a minute)")
    _add_contention_arguments(p)
    # other packages add benchmarks of their own that a flag selects (the dashboard: --dashboard-sessions)
    for entry in entry_points(group=BENCH_MODE_GROUP):
        entry.load().add_arguments(p)
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("models", help="list models, their parameters and role presets")
    p.set_defaults(func=cmd_models)
    p = sub.add_parser("map", help="map a trained run over a covariate grid (GeoTIFF, NetCDF, Zarr or x/y table)")
    p.add_argument("--run", required=True, help="run directory written by 'hybridlab train'")
    p.add_argument("--grid", required=True,
                   help="covariates: a GeoTIFF stack (bands named by their descriptions), .nc, .zarr, or a table with x/y")
    p.add_argument("--out", required=True, help="the map: .tif (one band per variable), .nc or .zarr")
    p.add_argument("--interval", type=float, default=None, metavar="LEVEL",
                   help="also map each target's calibrated LEVEL interval (<target>_lower, <target>_upper)")
    p.add_argument("--chunk", type=int, default=256, help="window side in pixels; memory grows with its square "
                                                         "(default 256)")
    p.add_argument("--reproject", action="store_true",
                   help="a grid in another CRS than the run's longitude/latitude points: compute them per pixel")
    p.add_argument("--overwrite", action="store_true", help="replace an existing map that hybridlab wrote")
    p.add_argument("--max-pixels", type=int, default=1_000_000_000,
                   help="refuse a grid that declares more pixels than this (default 1,000,000,000)")
    p.add_argument("--mask-outside-aoa", action="store_true",
                   help="nodata in predictions, intervals and parameters where a pixel lies outside the run's area "
                        "of applicability (the di and aoa bands are kept)")
    add_executor_arguments(p)
    p.set_defaults(func=cmd_map)
    p = sub.add_parser("data", help="list built-in data sets; 'data lucas' joins LUCAS files into one table")
    p.add_argument("action", nargs="?", choices=["lucas", "truth-sets"],
                   help="lucas: join LUCAS files (--soil and the others); truth-sets: write the synthetic SOC sets "
                        "that check identifiability verdicts (--out DIR, --n-sites)")
    p.add_argument("--n-sites", type=int, default=4000, help="sites of each truth set (default 4000)")
    p.add_argument("--write-samples", metavar="DIR", help="write the small sample of each built-in set to DIR")
    p.add_argument("--overwrite", action="store_true", help="replace sample files (or the --out table) that exist")
    add_lucas_arguments(p)
    p.add_argument("--out", default=None, metavar="TABLE.parquet",
                   help="the joined table; its column map (.columns.json) and report (.report.md) go beside it")
    p.set_defaults(func=cmd_data)
    add_importers(p)  # data fluxnet, data retention (after the defaults: it dispatches to them)


def _add_contention_arguments(p) -> None:
    """``bench --contention``: the trainings alone and beside busy processes (core.bench.contention)."""
    p.add_argument("--contention", action="store_true",
                   help="only the contention case: trainings alone and beside busy processes, each as `hybridlab train`")
    p.add_argument("--repeats", type=int, default=3, help="runs of each contention measurement (default 3)")
    p.add_argument("--busy", default="0,1,2", help="busy processes beside the trainings, comma-separated (default 0,1,2)")
    p.add_argument("--variants", default="rule-active,cores-active",
                   help="thread rule and OpenMP wait policy of each training: rule|cores - passive|active, "
                        "comma-separated (default rule-active,cores-active: this rule against torch's defaults)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hybridlab", description="Hybrid modelling: neural networks learn the parameters of "
                                                   "process-based soil models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    _add_builtin_commands(sub)
    for entry in entry_points(group=COMMAND_GROUP):
        entry.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _set_threads(args)
        return args.func(args)
    except HybridlabError as e:
        print(f"hybridlab {args.command}: error: {short_text(e)}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, MemoryError, RecursionError, UnicodeError) as e:  # a file, the machine's memory, the input's depth
        print(f"hybridlab {args.command}: error: {_what(e, args.command)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback on request
        if os.environ.get("HYBRIDLAB_DEBUG"):
            raise
        print(f"hybridlab {args.command}: internal error: {type(e).__name__}: {short_text(e)} (set HYBRIDLAB_DEBUG=1 "
              f"for the traceback, and please report it)", file=sys.stderr)
        return 1


#: what to try when a command runs out of memory; the default suits the commands that train
LESS_MEMORY = {"map": "a smaller --chunk or fewer --workers", "data": "smaller files (--max-bytes)",
               "predict": "fewer rows per call"}


def _set_threads(a: argparse.Namespace) -> None:
    """A command that trains in this process (one with --threads) sets torch's threads by the one
    rule (:mod:`core.threads`) before it starts; --verbose says how many and why."""
    if not hasattr(a, "threads"):
        return
    from .. import threads

    threads.check_passive()
    choice = threads.choose(1, a.threads, device=getattr(a, "device", None))
    got = threads.apply(choice)
    if getattr(a, "verbose", False):
        print(f"threads: {got['intra_op']} intra-op, {got['inter_op']} inter-op; OpenMP wait policy "
              f"{threads.wait_policy()}; {choice.reason}", file=sys.stderr, flush=True)


def _what(error: BaseException, command: str = "") -> str:
    """One line for an error of the machine or the input that no check caught first."""
    if isinstance(error, MemoryError):
        hint = LESS_MEMORY.get(command, "fewer sites, rows or a smaller network")
        return f"not enough memory for this request (try {hint})"
    if isinstance(error, RecursionError):
        return "the input is nested too deeply"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        return f"{where}{error.strerror or short_text(error)}"
    return f"{type(error).__name__}: {short_text(error)}"
