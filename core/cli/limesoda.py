"""``hybridlab data limesoda NAME --out TABLE.parquet``: one LimeSoDa set (the PyPI package
``limesoda``) with its stored folds, as a table, column map and report
(:mod:`core.datasets.surveys.limesoda`), written as ``data fluxnet`` writes."""
from __future__ import annotations

import argparse

from core.errors import HybridlabError

WRITER = "data limesoda"


def add_limesoda_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``data limesoda`` (the set's name is the data command's positional FILE)."""
    g = p.add_argument_group("data limesoda")
    g.add_argument("--mat", type=float, default=None, help="the field's mean annual temperature, degC (SOC model)")
    g.add_argument("--map", dest="map_mm", type=float, default=None,
                   help="the field's mean annual precipitation, mm yr-1 (SOC model; NPP from the Miami model)")


def cmd_limesoda(a: argparse.Namespace) -> int:
    """Build the table of one LimeSoDa set."""
    from core.datasets.surveys.limesoda import LimeSoDaOptions, assemble_limesoda
    from core.datasets.surveys.written import run_import

    if not a.file:
        raise HybridlabError("data limesoda needs the set's name: hybridlab data limesoda BB.250 --out TABLE.parquet")
    options = LimeSoDaOptions(mat=a.mat, map_mm=a.map_mm, om_factor=a.om_factor).check()
    return run_import(a.out, a.overwrite, WRITER, [], lambda: assemble_limesoda(a.file, options))


__all__ = ["add_limesoda_arguments", "cmd_limesoda"]
