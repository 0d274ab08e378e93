"""``hybridlab predict``: a saved run's predictions (and calibrated intervals) on new rows."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.files import check_output_file
from core.errors import HybridlabError
from core.formatting import short_repr


def add_command(sub) -> None:
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


def _read_input(text: str):
    import pandas as pd

    from core.datasets import read_table

    from core.cli.arguments import json_value

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

    from core.run.loaded import load_run

    run = load_run(a.run)
    frame = _read_input(a.input)
    result = run.predict(frame, at=_forcing_grid(a.at) or None, interval=a.interval)
    for note in result.attrs.get("interval_notes", []):
        print(note, file=sys.stderr)
    table = pd.concat([frame.reset_index(drop=True), result.reset_index(drop=True)], axis=1)
    if a.out:
        from core.io.outputs import write_file

        out = check_output_file(a.out, a.overwrite, inputs=[a.input])
        write_file(out, lambda temp: table.to_parquet(temp, index=False) if out.suffix == ".parquet"
                   else table.to_csv(temp, index=False))
        print(f"{len(table)} predictions written to {out}")
    else:
        print(table.to_string(index=False, max_rows=50))
    return 0
