"""The flags that describe a run (``train``; later ``sweep``) and how they become a plan."""
from __future__ import annotations

import argparse
import sys

from core.datasets import builtin_names, read_mapping
from core.io.documents import load_json
from core.errors import HybridlabError
from core.run.plan import RunPlan
from core.formatting import short_repr

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit code 2 (every command's parser)."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_plan_arguments(p: argparse.ArgumentParser) -> None:
    """Flags for every field of a plan; a flag left out keeps the plan's (or the model's) value."""
    p.add_argument("--config", default=None,
                   help="a run plan (YAML/JSON), a run folder or its config.json; flags given as well override it")
    p.add_argument("--model", default=None,
                   help="model name ('hybridlab models' lists them; nn: the pure neural network; default respiration)")
    p.add_argument("--data", default=None,
                   help="built-in data name or a CSV/Parquet file (default: the model's built-in data)")
    p.add_argument("--columns", default=None, help="column mapping JSON file (or JSON text) for a data file")
    p.add_argument("--drop-incomplete", action=argparse.BooleanOptionalAction, default=None,
                   help="rows of a data file that lack a forcing or predictor value: left out of training with a "
                        "line counting them by column (default), or with --no-drop-incomplete refused; missing "
                        "targets are masked either way")
    p.add_argument("--n-sites", type=int, default=None, help="size of a built-in synthetic data set")
    p.add_argument("--roles", default=None,
                   help="role preset name or JSON like '{\"q10\": \"neural\"}' (default: the model's default)")
    p.add_argument("--targets", default=None, help="comma-separated subset of targets to fit")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="model option, e.g. feasibility_weight=0 for the soc model (repeatable)")
    p.add_argument("--bounds", action="append", default=[], metavar="PARAM=LOWER,UPPER",
                   help="change a parameter's bounds, e.g. q_max=5,150 (repeatable)")
    p.add_argument("--fix", action="append", default=[], metavar="PARAM=VALUE",
                   help="fix a parameter at a value, e.g. beta=1 (repeatable)")
    p.add_argument("--split", default=None, help="site | temperature | kfold | spatial (default: site)")
    p.add_argument("--val-fraction", type=float, default=None, help="share of sites for validation (default 0.2)")
    p.add_argument("--split-column", default=None, help="column for the temperature split (default: temp)")
    p.add_argument("--folds", type=int, default=None,
                   help="number of folds for --split kfold (default 5), or for a block k-fold with --split spatial "
                        "(default: no folds, a hold-out of --val-fraction of the blocks)")
    p.add_argument("--fold", type=int, default=None, help="validation fold (0-based) for --split kfold or spatial")
    p.add_argument("--block-size", type=float, default=None, metavar="KM",
                   help="side of the square blocks of --split spatial in km (required there), e.g. 300")
    p.add_argument("--coordinates", type=_column_pair, default=None, metavar="LON,LAT",
                   help="longitude and latitude columns (degrees) of --split spatial (default: found by name, "
                        "lon/lat, longitude/latitude or th_long/th_lat)")
    p.add_argument("--calibration", type=float, default=None,
                   help="share of the training sites held out to calibrate prediction intervals, e.g. 0.15 "
                        "(default 0: none; `predict --interval` needs it for a one-member run)")
    add_stratum_argument(p)
    p.add_argument("--no-applicability", dest="applicability", action="store_false", default=None,
                   help="skip the dissimilarity index and area of applicability (predict and map then give no di/aoa)")
    p.add_argument("--epochs", type=int, help="maximum epochs (report: 1000)")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs (report: 100)")
    p.add_argument("--batch-size", type=int, help="batch size (report: 2048)")
    p.add_argument("--lr", type=float, help="learning rate (report: 0.01)")
    p.add_argument("--optimizer", help="rmsprop | adam | adamw (report: rmsprop)")
    p.add_argument("--loss", default=None, help="kge | nse | mse, per target (default kge)")
    p.add_argument("--weighting", default=None, help="mean | uncertainty: how target losses combine")
    p.add_argument("--global-start", default=None,
                   help="default | random: global parameters start at their defaults or at a seeded random point "
                        "within their bounds (random for ensembles whose agreement you read)")
    p.add_argument("--neural-start", default=None,
                   help="default | dispersed: neural parameters start mid-bounds, or each member's start drawn "
                        "across the bounds (docs/identifiability.md)")
    p.add_argument("--hidden", help="hidden layer sizes, comma-separated (report: 256,128,64,32)")
    p.add_argument("--activation", help="sigmoid | tanh | relu | gelu | silu (report: sigmoid)")
    p.add_argument("--dropout", type=float, help="dropout after all but the last hidden layer (report: 0.3)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed for the synthetic data, split, initialisation and shuffling (default 0)")
    p.add_argument("--device", default=None, help="cpu or cuda")
    p.add_argument("--members", type=int, default=None,
                   help="train an ensemble of K members as one model (member k has seed SEED+k); one run folder "
                        "holds them all (default 1)")
    p.add_argument("--precision", default=None,
                   help="float32 | bf16-mixed: the network's matrix products in bfloat16 where the CPU has bf16 "
                        "matrix units (default float32)")


#: flag -> key in the plan's split / network / train block
SPLIT_FLAGS = {"split": "kind", "val_fraction": "val_fraction", "split_column": "column", "folds": "folds",
               "fold": "fold", "calibration": "calibration", "block_size": "block_size", "coordinates": "coordinates"}
NETWORK_FLAGS = {"hidden": "hidden", "activation": "activation", "dropout": "dropout"}
TRAIN_FLAGS = {"optimizer": "optimizer", "lr": "lr", "batch_size": "batch_size", "epochs": "epochs",
               "patience": "patience", "seed": "seed", "device": "device", "loss": "loss", "weighting": "weighting",
               "global_start": "global_start", "neural_start": "neural_start", "members": "members", "precision": "precision"}


def _column_pair(text: str) -> list[str]:
    """``LON,LAT`` as two column names (argparse type of --coordinates)."""
    names = [n.strip() for n in text.split(",")]
    if len(names) != 2 or not all(names):
        raise argparse.ArgumentTypeError(f"expects two column names LON,LAT, got {text!r}")
    return names


def _key_values(item: str, flag: str, count: int):
    name, sep, rest = item.partition("=")
    parts = rest.split(",")
    try:
        if not sep or not name or len(parts) != count:
            raise ValueError
        return (name.strip(), *(float(v) for v in parts))
    except ValueError:
        want = "NAME=LOWER,UPPER" if count == 2 else "NAME=VALUE"
        raise HybridlabError(f"{flag} expects {want}, got {short_repr(item)}") from None


def _data_source(a: argparse.Namespace, values: dict) -> dict:
    """The plan's data block after --data, --columns, --n-sites and --seed."""
    source = dict(values.get("data") or {})
    if a.data is not None:
        if a.data in builtin_names():
            source = {"name": a.data}
        else:
            if a.columns is None:
                raise HybridlabError(f"{a.data}: a data file needs a column mapping (--columns MAP.json)")
            source = {"path": a.data, "columns": read_mapping(a.columns)}
    if getattr(a, "drop_incomplete", None) is not None and "path" in source:
        source["drop_incomplete"] = a.drop_incomplete
    if not source:
        default = RunPlan.from_dict({"model": values["model"]}).data if values.get("model") else None
        source = default.to_dict() if default is not None else {}
    if "name" in source:
        if a.n_sites is not None:
            source["n"] = a.n_sites
        if a.seed is not None:
            source["seed"] = a.seed
    return source


def plan_from_args(a: argparse.Namespace) -> RunPlan:
    """A validated plan from ``--config`` (if given) and the flags given on top of it."""
    values = RunPlan.read(a.config).to_dict() if a.config else {}
    before = values.get("split") or {}
    if a.split == "spatial" and a.folds is None and before.get("kind") != "spatial":
        # another kind's 5 folds were not asked for: a hold-out of blocks
        values["split"] = {k: v for k, v in before.items() if k not in ("folds", "fold")}
    if a.model is not None or "model" not in values:
        if a.config and a.model not in (None, values.get("model")):
            values = {k: v for k, v in values.items() if k in ("data", "split", "train")}
        values["model"] = a.model or "respiration"
    values["data"] = _data_source(a, values)
    if a.roles is not None:
        values["roles"] = a.roles
    if a.targets:
        values["targets"] = [t.strip() for t in a.targets.split(",")]
    if getattr(a, "stratum", None) is not None:
        values["stratum"] = a.stratum
    if getattr(a, "applicability", None) is False:
        values["applicability"] = False
    for item in a.bounds:
        name, lower, upper = _key_values(item, "--bounds", 2)
        values.setdefault("bounds", {})[name] = [lower, upper]
    for item in a.fix:
        name, value = _key_values(item, "--fix", 1)
        values.setdefault("fixed", {})[name] = value
    for item in a.option:
        name, value = _key_values(item, "--option", 1)
        values.setdefault("options", {})[name] = value
    for block, flags in (("split", SPLIT_FLAGS), ("network", NETWORK_FLAGS), ("train", TRAIN_FLAGS)):
        given = {key: getattr(a, flag) for flag, key in flags.items() if getattr(a, flag) is not None}
        if given:
            values[block] = {**(values.get(block) or {}), **given}
    return RunPlan.from_dict(values)


def add_stratum_argument(p: argparse.ArgumentParser) -> None:
    """--stratum: the column whose classes the validation scores are also reported by."""
    p.add_argument("--stratum", default=None, metavar="COLUMN",
                   help="also report the validation KGE, coverage and CRPS per class of this column (land cover, "
                        "country), or of comma-separated 0/1 indicator columns, e.g. lc_crop,lc_grass,lc_wood")


def dump_or_require_out(plan, dump: bool, out: str | None) -> bool:
    """True when ``plan`` (a run or sweep plan) was printed as YAML instead of run (--dump-config,
    --dump-plan); otherwise --out must be given."""
    if dump:
        sys.stdout.write(plan.to_yaml())
        return True
    if not out:
        raise HybridlabError("the following arguments are required: --out")
    return False


def json_value(text: str, flag: str):
    """The JSON object or list a flag's text holds, or None when it is not JSON (a name, a path)."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    return load_json(stripped, flag)


def add_twin_arguments(p) -> None:
    """--twins, --twin-members: verdicts from twin experiments (docs/identifiability.md)."""
    p.add_argument("--twins", type=int, default=0, metavar="N",
                   help="take the verdicts from N twin experiments: synthetic twins of the data with a known "
                        "parameter field, trained like the ensemble (default 0: from the members' agreement)")
    p.add_argument("--twin-members", type=int, default=3, metavar="M",
                   help="seeds trained on each twin, as one ensemble run (default 3)")


def twin_design(a: argparse.Namespace):
    """The TwinDesign the flags ask for, or None without --twins."""
    from core.identify.twins import TwinDesign

    if a.twins < 0:
        raise HybridlabError(f"--twins must be 0 (none) or more, got {a.twins}")
    return TwinDesign(twins=a.twins, members=a.twin_members) if a.twins else None


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    """--workers, --threads-per-worker, --scheduler: where the runs go (see core.compute.executor)."""
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the embedded Dask cluster (default: the cores)")
    p.add_argument("--threads-per-worker", type=int, default=None,
                   help="torch threads per run; each worker trains one run at a time (default: the cores each "
                        "worker may use, shared among the workers on its machine, fewer where it is busy; or "
                        "$HYBRIDLAB_THREADS)")
    p.add_argument("--scheduler", default=None,
                   help="address of an existing Dask scheduler, e.g. tcp://host:8786 (default: $HYBRIDLAB_SCHEDULER, "
                        "else an embedded cluster)")
