"""``hybridlab data retention --points FILE [--samples FILE] --out TABLE.parquet``: measured
retention points (long or wide) and sample properties made into the retention model's table,
its column map and its report (:mod:`core.datasets.surveys.retention`), written as ``data fluxnet`` writes.
"""
from __future__ import annotations

import argparse

from core.errors import HybridlabError

WRITER = "data retention"


def add_retention_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``data retention``."""
    from core.datasets.surveys.retention_samples import OM_FACTOR

    g = p.add_argument_group("data retention")
    g.add_argument("--points", default=None, metavar="FILE",
                   help="theta(h) points: long (sample id, suction, water content) or wide (a column per suction)")
    g.add_argument("--samples", default=None, metavar="FILE",
                   help="one row per sample: clay/silt/sand or a particle-size curve, OM or OC, BD, depth")
    g.add_argument("--layout", default="auto", choices=["auto", "long", "wide"], help="layout of --points")
    g.add_argument("--head-unit", default=None, choices=["cm", "m", "hPa", "kPa", "pF"],
                   help="unit of suction where the column names do not say it (converted to cm of water)")
    g.add_argument("--theta-unit", default="auto", choices=["auto", "fraction", "percent"],
                   help="unit of water content (default auto: the name, else percent when values exceed 1.5)")
    g.add_argument("--om-factor", type=float, default=OM_FACTOR,
                   help=f"organic matter / organic carbon (default {OM_FACTOR}, van Bemmelen)")
    g.add_argument("--texture-from", default="auto", choices=["auto", "fractions", "curve"],
                   help="texture from clay/silt/sand columns or from the particle-size curve (default auto: "
                        "the columns where given)")
    g.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE",
                   help="keep only points whose COLUMN holds VALUE, e.g. table=lab_drying_h-t (repeatable)")


def cmd_retention(a: argparse.Namespace) -> int:
    """Build the retention table from the points and samples files."""
    from core.datasets.surveys.reading import ReadOptions
    from core.datasets.surveys.retention import RetentionOptions, assemble_retention
    from core.datasets.surveys.written import run_import

    if not a.points:
        raise HybridlabError("data retention needs --points FILE and --out TABLE.parquet")
    options = RetentionOptions(layout=a.layout, head_unit=a.head_unit, theta_unit=a.theta_unit,
                               om_factor=a.om_factor, texture=a.texture_from, where=tuple(a.where))
    read = ReadOptions(encoding=a.encoding, decimal_mark=a.decimal_mark, max_bytes=a.max_bytes,
                       max_columns=a.max_columns).check()
    inputs = [path for path in (a.points, a.samples) if path]
    return run_import(a.out, a.overwrite, WRITER, inputs,
                      lambda: assemble_retention(a.points, a.samples, options, read))


__all__ = ["add_retention_arguments", "cmd_retention"]
