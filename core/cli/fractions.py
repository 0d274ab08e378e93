"""``hybridlab data fractions FILE --out TABLE.parquet``: a SOC-fraction table (SOC, MOC, POC with
texture, climate, depth, mineral type, vegetation) made into the SOC model's table, its column map
and its report (:mod:`core.datasets.surveys.fractions`), written as ``data fluxnet`` writes.
"""
from __future__ import annotations

import argparse

from core.errors import HybridlabError

WRITER = "data fractions"


def add_fractions_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``data fractions`` (the file is the data command's positional FILE)."""
    from core.datasets.surveys.fractions_forcing import CARBON_FRACTION, DEFAULT_BD, ROOT_BETA

    g = p.add_argument_group("data fractions")
    g.add_argument("--carbon-unit", default="auto", choices=["auto", "g/kg", "mg/g", "percent", "mg/kg"],
                   help="unit of the SOC, MOC and POC columns (default auto: from their names, e.g. SOC_gC_kg, "
                        "MAOC_pct; refused where a name does not say it); converted to g C kg-1")
    g.add_argument("--carbon-fraction", type=float, default=CARBON_FRACTION,
                   help=f"g C per g dry matter for the Miami NPP (default {CARBON_FRACTION:g}; 1 keeps dry matter)")
    g.add_argument("--root-beta", type=float, default=ROOT_BETA,
                   help=f"root profile 1 - beta^depth for a layer's share of the input (default {ROOT_BETA:g}: "
                        f"0-20 cm gets half, the SOC model's in_frac)")
    g.add_argument("--default-bd", type=float, default=DEFAULT_BD,
                   help=f"g cm-3 for rows without a bulk density (default {DEFAULT_BD:g}: 260 kg m-2 for 0-20 cm)")
    g.add_argument("--depth-rule", default="layer", choices=["layer", "topsoil"],
                   help="layer: soil mass and litter input of each row's sampled layer (default); topsoil: every "
                        "row taken as 0-20 cm")
    g.add_argument("--drop-vegetation", action="append", default=[], metavar="CLASS",
                   help="leave out rows of this vegetation or land-use class, e.g. Cropland (repeatable)")
    g.add_argument("--id", dest="id_columns", default=None, metavar="COLUMN[,COLUMN]",
                   help="columns that together name a site (default: a site column, else lat and lon, else the "
                        "study's author and year)")


def cmd_fractions(a: argparse.Namespace) -> int:
    """Build the SOC model's table from one fraction table."""
    from core.datasets.surveys.fractions import FractionsOptions, assemble_fractions
    from core.datasets.surveys.reading import ReadOptions
    from core.datasets.surveys.written import run_import

    if not a.file:
        raise HybridlabError("data fractions needs the table: hybridlab data fractions FILE --out TABLE.parquet")
    ids = tuple(c.strip() for c in a.id_columns.split(",") if c.strip()) if a.id_columns else ()
    options = FractionsOptions(carbon_unit=a.carbon_unit, carbon_fraction=a.carbon_fraction, root_beta=a.root_beta,
                               bulk_density=a.default_bd, depth_rule=a.depth_rule,
                               drop_vegetation=tuple(a.drop_vegetation), id_columns=ids).check()
    read = ReadOptions(encoding=a.encoding, decimal_mark=a.decimal_mark, max_bytes=a.max_bytes,
                       max_columns=a.max_columns).check()
    return run_import(a.out, a.overwrite, WRITER, [a.file], lambda: assemble_fractions(a.file, options, read))


__all__ = ["add_fractions_arguments", "cmd_fractions"]
