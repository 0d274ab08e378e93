"""Command line: ``hybridlab train | predict | models | data`` (also ``python -m core``)."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .errors import HybridlabError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one line and exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="respiration",
                   help="mechanistic model name, or 'nn' for the pure neural network (default: respiration)")
    p.add_argument("--data", default=None,
                   help="built-in data name or a CSV/Parquet file (default: the model's built-in data)")
    p.add_argument("--columns", default=None, help="column mapping JSON file (or JSON text) for a data file")
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
    p.add_argument("--split", default="site", help="site | temperature | kfold (default: site)")
    p.add_argument("--val-fraction", type=float, default=0.2, help="share of sites for validation (default 0.2)")
    p.add_argument("--split-column", default="temp", help="column for the temperature split (default: temp)")
    p.add_argument("--folds", type=int, default=5, help="number of folds for --split kfold")
    p.add_argument("--fold", type=int, default=0, help="validation fold (0-based) for --split kfold")
    p.add_argument("--epochs", type=int, help="maximum epochs (report: 1000)")
    p.add_argument("--patience", type=int, help="early-stopping patience in epochs (report: 100)")
    p.add_argument("--batch-size", type=int, help="batch size (report: 2048)")
    p.add_argument("--lr", type=float, help="learning rate (report: 0.01)")
    p.add_argument("--optimizer", help="rmsprop | adam | adamw (report: rmsprop)")
    p.add_argument("--loss", default="kge", help="kge | nse | mse, per target (default kge)")
    p.add_argument("--weighting", default="mean", help="mean | uncertainty: how target losses combine")
    p.add_argument("--hidden", help="hidden layer sizes, comma-separated (report: 256,128,64,32)")
    p.add_argument("--activation", help="sigmoid | tanh | relu | gelu | silu (report: sigmoid)")
    p.add_argument("--dropout", type=float, help="dropout after all but the last hidden layer (report: 0.3)")
    p.add_argument("--seed", type=int, default=0, help="random seed for split, initialisation and shuffling")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--out", required=True, help="run directory to write")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise HybridlabError(f"--hidden must be comma-separated integers, got {text!r}") from None


def run_config_from_args(a: argparse.Namespace):
    """Build a RunConfig from parsed ``train`` arguments (validates every option)."""
    from .datasets import builtin_names
    from .models import NEURAL_NETWORK, get_model
    from .network import NetworkConfig
    from .runs import RunConfig, default_settings
    from .splits import SplitConfig
    from .training import TrainConfig

    spec = None if a.model == NEURAL_NETWORK else get_model(a.model)
    data_name = a.data or (spec.default_data if spec else None)
    if not data_name:
        raise HybridlabError(f"--data is required for model {a.model!r}")
    if data_name in builtin_names():
        source = {"name": data_name, "n": a.n_sites, "seed": a.seed}
    else:
        if a.columns is None:
            raise HybridlabError(f"{data_name}: a data file needs a column mapping (--columns MAP.json)")
        from .datasets import read_mapping
        source = {"path": data_name, "columns": read_mapping(a.columns)}
    d = default_settings(a.model)
    pick = lambda arg, key: d[key] if arg is None else arg  # noqa: E731
    if spec is not None and a.roles is not None:
        spec.parameters().resolve_roles(a.roles)  # fail early with the parameter's name
    overrides: dict = {}
    for item in a.bounds:
        name, lo, hi = _key_values(item, "--bounds", 2)
        overrides.setdefault(name, {}).update(lower=lo, upper=hi)
    for item in a.fix:
        name, value = _key_values(item, "--fix", 1)
        overrides.setdefault(name, {}).update(value=value, role="fixed")
    options = {}
    for item in a.option:
        name, value = _key_values(item, "--option", 1)
        options[name] = value
    cfg = RunConfig(
        model=a.model, data=source, roles=a.roles, overrides=overrides, options=options,
        targets=[t.strip() for t in a.targets.split(",")] if a.targets else None,
        split=SplitConfig(kind=a.split, val_fraction=a.val_fraction, column=a.split_column,
                          folds=a.folds, fold=a.fold),
        network=NetworkConfig(hidden=_parse_hidden(a.hidden) if a.hidden else d["hidden"],
                              activation=pick(a.activation, "activation"), dropout=pick(a.dropout, "dropout")),
        train=TrainConfig(optimizer=pick(a.optimizer, "optimizer"), lr=pick(a.lr, "lr"),
                          batch_size=pick(a.batch_size, "batch_size"), epochs=pick(a.epochs, "epochs"),
                          patience=pick(a.patience, "patience"), seed=a.seed, device=a.device, loss=a.loss,
                          weighting=a.weighting),
    )
    if spec is not None:  # fail early, naming the parameter or option
        cfg.parameter_set(spec)
        from .runs import _options
        _options(spec, cfg.options)
    return cfg


def _key_values(item: str, flag: str, count: int):
    name, sep, rest = item.partition("=")
    parts = rest.split(",")
    try:
        if not sep or not name or len(parts) != count:
            raise ValueError
        return (name.strip(), *(float(v) for v in parts))
    except ValueError:
        want = "NAME=LOWER,UPPER" if count == 2 else "NAME=VALUE"
        raise HybridlabError(f"{flag} expects {want}, got {item!r}") from None


class _Progress:
    """tqdm bar over epochs showing losses; Ctrl-C sets the stop event instead of killing the run."""

    def __init__(self, epochs: int, quiet: bool, desc: str | None = None):
        from tqdm import tqdm

        self.bar = None if quiet else tqdm(total=epochs, unit="epoch", file=sys.stderr, dynamic_ncols=True, desc=desc,
                                           mininterval=0.2 if sys.stderr.isatty() else 5.0)

    def __call__(self, row: dict) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(train=f"{row['train_loss']:.3f}", val=f"{row['val_loss']:.3f}",
                                 best=f"{row['best_val_loss']:.3f}@{row['best_epoch']}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def cmd_train(a: argparse.Namespace) -> int:
    from .datasets import load_source
    from .models import NEURAL_NETWORK, get_model
    from .reporting import metrics_table
    from .runs import train_run

    cfg = run_config_from_args(a)
    spec = None if cfg.model == NEURAL_NETWORK else get_model(cfg.model)
    if "path" in cfg.data:
        from .datasets import load_file
        data = load_file(cfg.data["path"], cfg.data["columns"], nonnegative=spec.nonnegative if spec else frozenset())
    else:
        data = load_source(cfg.data)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    progress = _Progress(cfg.train.epochs, a.quiet)
    try:
        run = train_run(cfg, data=data, callbacks=[progress], stop_event=stop)
    finally:
        progress.close()
        signal.signal(signal.SIGINT, previous)
    out = run.save(a.out)
    print(metrics_table(run.metrics))
    print(f"run written to {out}")
    return 0


def _read_input(text: str):
    import pandas as pd

    from .datasets import read_table

    s = text.strip()
    if s.startswith("{") or s.startswith("["):
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as e:
            raise HybridlabError(f"--input: invalid JSON ({e.msg})") from None
        return pd.DataFrame([obj] if isinstance(obj, dict) else obj)
    if Path(s).suffix.lower() == ".json":
        return _read_input(Path(s).read_text()) if Path(s).is_file() else read_table(s)
    return read_table(s)


def cmd_predict(a: argparse.Namespace) -> int:
    import pandas as pd

    from .runs import load_run

    run = load_run(a.run)
    frame = _read_input(a.input)
    at = {}
    for item in a.at:
        name, sep, values = item.partition("=")
        try:
            if not sep:
                raise ValueError
            at[name.strip()] = [float(v) for v in values.split(",")]
        except ValueError:
            raise HybridlabError(f"--at expects NAME=V1,V2,..., got {item!r}") from None
    res = run.predict(frame, at=at or None)
    table = pd.concat([frame.reset_index(drop=True), res.reset_index(drop=True)], axis=1)
    if a.out:
        out = Path(a.out)
        table.to_parquet(out, index=False) if out.suffix == ".parquet" else table.to_csv(out, index=False)
        print(f"{len(table)} predictions written to {out}")
    else:
        print(table.to_string(index=False, max_rows=50))
    return 0


def cmd_models(a: argparse.Namespace) -> int:
    from .models import NEURAL_NETWORK, get_model, model_names

    for name in model_names():
        if name == NEURAL_NETWORK:
            print(f"{name}: pure neural network baseline (targets straight from the last layer)")
            continue
        spec = get_model(name)
        ps = spec.parameters()
        print(f"{name}: {spec.description}")
        print(f"  forcing: {', '.join(spec.forcing)}; targets: {', '.join(spec.targets)}; data: {spec.default_data}")
        print(f"  presets: {', '.join(ps.presets)}")
        for p in ps:
            print(f"    {p.name:<10} {p.role:<7} {p.default:>10.4g} [{p.lower:g}, {p.upper:g}] {p.scale:<6} "
                  f"{p.unit}  {p.description}")
    return 0


def cmd_data(a: argparse.Namespace) -> int:
    from .datasets import builtin_names, load_data, write_samples

    if a.write_samples:
        for path in write_samples(a.write_samples):
            print(f"wrote {path}")
        return 0
    for name in builtin_names():
        d = load_data(name, n=None)
        print(f"{name}: {len(d.frame)} rows, {d.frame[d.id].nunique()} groups ({d.id}); "
              f"predictors {len(d.predictors)}; forcing {', '.join(d.forcing)}; targets {', '.join(d.targets)}")
    return 0


def cmd_experiment(a: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS

    bars = {}

    def progress(name):
        bars[name] = _Progress(a.epochs, a.quiet, desc=name)
        return bars[name]

    try:
        log = lambda msg: (_close(bars), print(msg, flush=True))  # noqa: E731
        if a.name == "soc":
            EXPERIMENTS["soc"](a.out, split=a.split, epochs=a.epochs, patience=a.patience, n_sites=a.n_sites,
                               seed=a.seed, configurations=a.configurations.split(",") if a.configurations else None,
                               progress=progress, log=log)
        else:
            EXPERIMENTS["swrc"](a.out, epochs=a.epochs, patience=a.patience, n_profiles=a.n_sites, seed=a.seed,
                                progress=progress, log=log)
    finally:
        _close(bars)
    return 0


def _close(bars):
    for b in bars.values():
        b.close()


def cmd_serve(a: argparse.Namespace) -> int:
    """Start the dashboard (``panel serve app/app.py``); needs the app package next to core."""
    import os
    import subprocess

    try:
        import app as app_package
    except ImportError:
        raise HybridlabError("the dashboard is not installed; install hybridlab with its app (pip install -e .)") from None
    script = Path(app_package.__file__).resolve().parent / "app.py"
    origin = a.allow_websocket_origin or os.environ.get("HYBRIDLAB_WEBSOCKET_ORIGIN") or f"localhost:{a.port},127.0.0.1:{a.port}"
    cmd = [sys.executable, "-m", "panel", "serve", str(script), "--port", str(a.port), "--address", a.address,
           "--index", "app"]
    for o in origin.split(","):
        cmd.append(f"--allow-websocket-origin={o.strip()}")
    if a.show:
        cmd.append("--show")
    print(f"dashboard at http://{a.address if a.address != '0.0.0.0' else 'localhost'}:{a.port}/app", flush=True)
    return subprocess.call(cmd)


def cmd_bench(a: argparse.Namespace) -> int:
    from .bench import run

    res = run(a.out, quick=a.quick)
    print(json.dumps(res, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hybridlab", description="Hybrid modelling: neural networks learn the parameters of "
                                                   "process-based soil models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p = sub.add_parser("train", help="train one model and write a run directory")
    _add_train_args(p)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("predict", help="predict with a saved run on new data")
    p.add_argument("--run", required=True, help="run directory written by 'hybridlab train'")
    p.add_argument("--input", required=True, help="CSV/Parquet file, or JSON (object or list of objects)")
    p.add_argument("--at", action="append", default=[], metavar="FORCING=V1,V2,...",
                   help="evaluate at these forcing values instead of the input's column, e.g. h=63,15849 "
                        "for water contents at pF 1.8 and 4.2 (repeatable)")
    p.add_argument("--out", default=None, help="write a CSV or .parquet file instead of printing")
    p.set_defaults(func=cmd_predict)
    p = sub.add_parser("experiment", help="run one of the report's experiments (soc)")
    p.add_argument("name", choices=["soc", "swrc"], help="which experiment")
    p.add_argument("--out", required=True, help="results folder")
    p.add_argument("--split", default="site", choices=["site", "temperature"], help="site (80/20) or temperature")
    p.add_argument("--epochs", type=int, default=1000, help="maximum epochs per configuration (default 1000)")
    p.add_argument("--patience", type=int, default=100, help="early-stopping patience (default 100)")
    p.add_argument("--n-sites", type=int, default=None,
                   help="number of synthetic sites (soc, default 16743) or profiles (swrc, default 400)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--configurations", default=None,
                   help="comma-separated subset of neural_network,all_global,five_neural,all_neural")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_experiment)
    p = sub.add_parser("bench", help="measure training speed against plain PyTorch and the matmul peak")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--quick", action="store_true", help="a few epochs, no full experiment (under a minute)")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("serve", help="start the dashboard in the browser (panel serve app/app.py)")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    p.add_argument("--allow-websocket-origin", default=None,
                   help="host[:port] allowed to connect (default $HYBRIDLAB_WEBSOCKET_ORIGIN or localhost:PORT)")
    p.add_argument("--show", action="store_true", help="open a browser")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("models", help="list models, their parameters and role presets")
    p.set_defaults(func=cmd_models)
    p = sub.add_parser("data", help="list built-in data sets")
    p.add_argument("--write-samples", metavar="DIR", help="write the small sample of each built-in set to DIR")
    p.set_defaults(func=cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HybridlabError as e:
        print(f"hybridlab {args.command}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
