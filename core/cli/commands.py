"""The commands of ``hybridlab``: train, predict, experiment, models, data, bench."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import HybridlabError
from ..formatting import short_repr


def cmd_train(a: argparse.Namespace) -> int:
    from ..execute import execute
    from ..reporting import metrics_table
    from ..store import check_out, claim
    from .arguments import dump_or_require_out, plan_from_args
    from .notes import NotesFirst
    from .progress import ProgressBar, stop_on_signals

    plan = plan_from_args(a)
    if dump_or_require_out(plan, a.dump_config, a.out):
        return 0
    reading = [path for path in (getattr(a, "config", None), plan.data.path) if path]
    out = check_out(a.out, a.overwrite, reading=reading)
    progress = ProgressBar(plan.train.epochs, a.quiet)
    with claim(out):
        try:
            with stop_on_signals() as stop:
                run = execute(plan, observer=NotesFirst(progress), stop_event=stop)
        finally:
            progress.close()
        run.save(out, overwrite=a.overwrite)
    print(metrics_table(run.metrics))
    print(f"run written to {out}")
    return 0


def _read_input(text: str):
    import pandas as pd

    from ..datasets import read_table

    from .arguments import json_value

    s = text.strip()
    obj = json_value(s, "--input")
    if obj is not None:
        return pd.DataFrame([obj] if isinstance(obj, dict) else obj)
    if Path(s).suffix.lower() == ".json":
        return _read_input(Path(s).read_text()) if Path(s).is_file() else read_table(s)
    return read_table(s)


def _forcing_grid(items: list[str]) -> dict[str, list[float]]:
    grid = {}
    for item in items:
        name, sep, values = item.partition("=")
        try:
            if not sep:
                raise ValueError
            grid[name.strip()] = [float(v) for v in values.split(",")]
        except ValueError:
            raise HybridlabError(f"--at expects NAME=V1,V2,..., got {short_repr(item)}") from None
    return grid


def cmd_predict(a: argparse.Namespace) -> int:
    import pandas as pd

    from ..loaded_run import load_run

    run = load_run(a.run)
    frame = _read_input(a.input)
    result = run.predict(frame, at=_forcing_grid(a.at) or None, interval=a.interval)
    for note in result.attrs.get("interval_notes", []):
        print(note, file=sys.stderr)
    table = pd.concat([frame.reset_index(drop=True), result.reset_index(drop=True)], axis=1)
    if a.out:
        from ..outputs import write_file

        out = check_output_file(a.out, a.overwrite, inputs=[a.input])
        write_file(out, lambda temp: table.to_parquet(temp, index=False) if out.suffix == ".parquet"
                   else table.to_csv(temp, index=False))
        print(f"{len(table)} predictions written to {out}")
    else:
        print(table.to_string(index=False, max_rows=50))
    return 0


def check_file_place(out: Path, wanted: str) -> None:
    """``out`` can become a file: not a folder or a link, in a folder that exists (``wanted``
    says what --out needs, for the message)."""
    if out.is_dir():
        raise HybridlabError(f"{out}: is a folder; --out needs {wanted}")
    if out.is_symlink():
        raise HybridlabError(f"{out}: is a symbolic link; give the file it points to or another --out")
    if not out.parent.is_dir():
        raise HybridlabError(f"{out}: the folder {out.parent} does not exist; create it first or choose another --out")


def check_output_file(path: str, overwrite: bool, inputs: list[str] = ()) -> Path:
    """An output file that is not one of the inputs, and not an existing file unless ``overwrite``."""
    from ..outputs import check_not_input

    out = Path(path)
    check_file_place(out, "a file name ending in .csv or .parquet")
    check_not_input(out, inputs)
    if out.exists() and not overwrite:
        raise HybridlabError(f"{out}: exists; choose another --out or give --overwrite")
    return out


def cmd_models(a: argparse.Namespace) -> int:
    from ..models import get_model, model_names

    for name in model_names():
        spec = get_model(name)
        print(f"{name}: {spec.description}")
        if not spec.has_parameters:
            continue
        ps = spec.parameters()
        print(f"  forcing: {', '.join(spec.forcing)}; targets: {', '.join(spec.targets)}; data: {spec.default_data}")
        print(f"  presets: {', '.join(ps.presets)}")
        for p in ps:
            print(f"    {p.name:<10} {p.role:<7} {p.default:>10.4g} [{p.lower:g}, {p.upper:g}] {p.scale:<6} "
                  f"{p.unit}  {p.description}")
    return 0


def cmd_map(a: argparse.Namespace) -> int:
    from ..mapping import MapOptions, map_run
    from ..outputs import Interrupted

    if a.chunk < 16 or a.chunk > 4096:
        raise HybridlabError(f"--chunk must be between 16 and 4096 pixels, got {a.chunk}")
    if a.max_pixels < 1:
        raise HybridlabError(f"--max-pixels must be at least 1, got {a.max_pixels}")
    if a.interval is not None:
        from ..calibration import check_level

        check_level(a.interval)
    options = MapOptions(interval=a.interval, chunk=a.chunk, workers=a.workers, scheduler=a.scheduler,
                         reproject=a.reproject, overwrite=a.overwrite, max_pixels=a.max_pixels,
                         mask_outside_aoa=a.mask_outside_aoa)
    try:
        report = map_run(a.run, a.grid, a.out, options, log=lambda m: print(m, file=sys.stderr))
    except Interrupted as stop:
        print(f"hybridlab map: stopped by {stop}; nothing was written to {a.out} (an earlier map there is kept)",
              file=sys.stderr)
        return stop.exit_code
    left = {k: report.get(k, 0) for k in ("no_data", "missing_covariate", "forcing_out_of_range")}
    print(f"{report.get('mapped', 0)} of {report.get('pixels', 0)} pixels mapped in {report['seconds']:.1f} s "
          f"({report['pixels_per_second']:.0f} pixels/s); nodata: {left['no_data']} without data in the grid, "
          f"{left['missing_covariate']} with a missing covariate, {left['forcing_out_of_range']} with forcing the "
          f"model does not accept")
    print(f"map written to {a.out}: {', '.join(report['variables'])}")
    return 0


def cmd_lucas(a: argparse.Namespace) -> int:
    from .lucas import cmd_lucas as run_lucas

    return run_lucas(a)


def cmd_truth_sets(a: argparse.Namespace) -> int:
    from ..experiments.truth_sets import SETS, write_truth_sets
    from ..validation import check_integer

    if not a.out:
        raise HybridlabError("data truth-sets needs --out DIR")
    n_sites = check_integer(a.n_sites, "--n-sites", minimum=100, maximum=200_000)
    out = Path(a.out)
    if out.exists() and not out.is_dir():
        raise HybridlabError(f"{out}: exists and is not a folder; give a folder for --out")
    taken = [str(out / f"{name}{suffix}") for name in SETS for suffix in (".parquet", ".columns.json")
             if (out / f"{name}{suffix}").exists()]
    if taken and not a.overwrite:
        raise HybridlabError(f"{taken[0]}: exists; choose another --out or give --overwrite")
    for path in write_truth_sets(out, n_sites):
        print(f"wrote {path} and {path.with_suffix('.columns.json').name}")
    return 0


def cmd_data(a: argparse.Namespace) -> int:
    from ..datasets import builtin_names, load_data, write_samples

    if a.action == "lucas":
        return cmd_lucas(a)
    if a.action == "truth-sets":
        return cmd_truth_sets(a)

    if a.write_samples:
        for path in write_samples(a.write_samples, overwrite=a.overwrite):
            print(f"wrote {path}")
        return 0
    for name in builtin_names():
        d = load_data(name, n=None)
        print(f"{name}: {len(d.frame)} rows, {d.frame[d.id].nunique()} groups ({d.id}); "
              f"predictors {len(d.predictors)}; forcing {', '.join(d.forcing)}; targets {', '.join(d.targets)}")
    return 0


def cmd_experiment(a: argparse.Namespace) -> int:
    from ..experiments import ExperimentOptions, get_experiment, run_experiment
    from .compare import cmd_compare, run_with_progress, wants_comparison

    if wants_comparison(a):
        return cmd_compare(a)
    experiment = get_experiment(a.name)
    options = ExperimentOptions(split=a.split, epochs=1000 if a.epochs is None else a.epochs,
                                patience=100 if a.patience is None else a.patience, n_sites=a.n_sites, seed=a.seed,
                                configurations=a.configurations.split(",") if a.configurations else None,
                                seeds=a.seeds, folds=a.folds, pack_seeds=a.pack_seeds, precision=a.precision,
                                members=a.members, calibration=a.calibration)
    results = run_with_progress(a, lambda executor, **hooks: run_experiment(experiment, a.out, options, executor,
                                                                             **hooks))
    print(f"results in {a.out}/results.md")
    return 1 if results["failed"] else 0


#: benchmarks run instead of the standard one when their flag is given: objects with
#: ``add_arguments(parser)``, ``requested(args) -> bool`` and ``run(args, log) -> dict``
BENCH_MODE_GROUP = "hybridlab.bench_modes"


def cmd_bench(a: argparse.Namespace) -> int:
    from importlib.metadata import entry_points

    from ..bench import run

    out = check_bench_out(a.out)  # before minutes of measuring, not after
    result = None
    if getattr(a, "contention", False):
        from ..bench.contention import run_contention

        result = run_contention(a, log=print)
    for entry in entry_points(group=BENCH_MODE_GROUP) if result is None else ():
        mode = entry.load()
        if mode.requested(a):
            result = mode.run(a, log=print)
            break
    if result is None:
        result = run(None, quick=a.quick)
    from ..outputs import write_text

    text = json.dumps(result, indent=2)
    print(text)  # on the screen first: a file that cannot be written then loses nothing
    write_text(out, text)
    return 0


#: an earlier benchmark's JSON is a few kB; a larger file is not read to find out
BENCH_RESULT_MAX_BYTES = 1 << 20


def check_bench_out(path: str) -> Path:
    """The benchmark's JSON file: a new file in an existing folder, or an earlier benchmark's
    result (a JSON object whose ``machine`` names the cores), which is replaced."""
    out = Path(path)
    check_file_place(out, "a file name such as bench.json")
    if out.exists() and not _is_bench_result(out):
        raise HybridlabError(f"{out}: exists and is not a benchmark result; choose another --out")
    return out


def _is_bench_result(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size > BENCH_RESULT_MAX_BYTES:
        return False
    try:
        earlier = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(earlier, dict) and isinstance(earlier.get("machine"), dict) and "cores" in earlier["machine"]
