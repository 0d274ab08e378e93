"""``hybridlab data fluxnet FILE --out TABLE.parquet``: an eddy-covariance file made into the
night-time respiration table, its column map and its report (:mod:`core.datasets.surveys.fluxnet`), and
the hook that adds ``fluxnet`` and ``retention`` to ``hybridlab data``. The three outputs are
written together (:mod:`core.datasets.surveys.written`); none may be an input, and ``--overwrite``
replaces only what the same importer wrote.
"""
from __future__ import annotations

import argparse

from core.errors import HybridlabError

WRITER = "data fluxnet"


def _threshold(text: str):
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a number in m s-1, got {text!r}") from None


def add_fluxnet_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``data fluxnet`` (the file is the data command's positional FILE)."""
    g = p.add_argument_group("data fluxnet")
    g.add_argument("--temperature", default="air", choices=["air", "soil"],
                   help="the forcing: air (TA_F, TA, Tair) or soil temperature (TS_F_MDS_1, TS_1_1_1, Tsoil)")
    g.add_argument("--night", default="auto", choices=["auto", "flag", "potential", "sw-in"],
                   help="night from the file's NIGHT flag, from potential radiation (--latitude, --longitude, "
                        "--utc-offset) or from SW_IN below --sw-threshold (default auto: in that order)")
    g.add_argument("--sw-threshold", type=float, default=10.0, metavar="W_M2",
                   help="SW_IN below this is night (default 10 W m-2)")
    g.add_argument("--latitude", type=float, default=None, help="site latitude, degrees north")
    g.add_argument("--longitude", type=float, default=None, help="site longitude, degrees east")
    g.add_argument("--utc-offset", type=float, default=None, metavar="HOURS",
                   help="hours the file's local standard time is ahead of UTC (1 for central Europe)")
    g.add_argument("--ustar-threshold", type=_threshold, default=None, metavar="auto|M_S",
                   help="records with u* below this are left out (default: none further for FLUXNET2015/ONEFlux "
                        "NEE_VUT_*, already u*-filtered by the network; for raw NEE (ICOS, REddyProc) auto, a "
                        "bootstrapped moving-point estimate, reported; 0: no u* filter)")
    g.add_argument("--max-qc", type=int, default=None,
                   help="worst NEE quality flag kept (default 0, measured, for FLUXNET's 0-3; 1 for ICOS's SSITC)")
    g.add_argument("--min-qc-fraction", type=float, default=1.0,
                   help="least share of good data kept where the flag is a fraction (FLUXNET's *_MEAN_QC; default 1)")
    g.add_argument("--blocks", default="week", choices=["day", "week"],
                   help="groups that splits keep together: nights (noon to noon) or ISO weeks (default week)")
    g.add_argument("--vpd-unit", default="auto", choices=["auto", "hPa", "kPa"],
                   help="unit of VPD (default auto: the units line, else hPa as FLUXNET writes it)")
    g.add_argument("--site", default=None, help="the site's name in the table (default: from the file name)")


def cmd_fluxnet(a: argparse.Namespace) -> int:
    """Build the night-time respiration table from one flux file."""
    from core.datasets.surveys.flux_filters import FluxOptions
    from core.datasets.surveys.fluxnet import assemble_fluxnet
    from core.datasets.surveys.reading import ReadOptions
    from core.datasets.surveys.written import run_import

    if not a.file:
        raise HybridlabError("data fluxnet needs the flux file: hybridlab data fluxnet FILE --out TABLE.parquet")
    options = FluxOptions(temperature=a.temperature, night=a.night, sw_threshold=a.sw_threshold,
                          latitude=a.latitude, longitude=a.longitude, utc_offset=a.utc_offset,
                          ustar_threshold=a.ustar_threshold, max_qc=a.max_qc, min_qc_fraction=a.min_qc_fraction,
                          blocks=a.blocks, vpd_unit=a.vpd_unit).check()
    read = ReadOptions(encoding=a.encoding, decimal_mark=a.decimal_mark, max_bytes=a.max_bytes,
                       max_columns=a.max_columns).check()
    return run_import(a.out, a.overwrite, WRITER, [a.file],
                      lambda: assemble_fluxnet(a.file, options, read, site=a.site))


def add_importers(p: argparse.ArgumentParser) -> None:
    """Add ``fluxnet``, ``retention``, ``fractions`` and ``limesoda`` to the ``hybridlab data`` parser ``p`` (after its defaults)."""
    from core.cli.fractions import add_fractions_arguments, cmd_fractions
    from core.cli.limesoda import add_limesoda_arguments, cmd_limesoda
    from core.cli.retention import add_retention_arguments, cmd_retention

    action = next(x for x in p._actions if x.dest == "action")
    action.choices = [*action.choices, "fluxnet", "retention", "fractions", "limesoda"]
    action.help = (f"{action.help}; fluxnet: night-time respiration table from a flux file (FILE); retention: "
                   f"theta(h) table from --points [--samples]; fractions: SOC model table from a "
                   f"SOC/MOC/POC table (FILE); limesoda: one LimeSoDa set (FILE: its name, e.g. BB.250)")
    p.add_argument("file", nargs="?", default=None, metavar="FILE",
                   help="data fluxnet: the eddy-covariance file; data fractions: the fraction table; data limesoda: "
                        "the set's name")
    add_fluxnet_arguments(p)
    add_retention_arguments(p)
    add_fractions_arguments(p)
    add_limesoda_arguments(p)
    base = p.get_default("func")
    commands = {"fluxnet": cmd_fluxnet, "retention": cmd_retention, "fractions": cmd_fractions,
                "limesoda": cmd_limesoda}

    def dispatch(a: argparse.Namespace) -> int:
        if a.action in commands:
            return commands[a.action](a)
        if a.file:
            raise HybridlabError(f"data {a.action or ''}: unexpected argument {a.file!r}".replace("  ", " "))
        return base(a)

    p.set_defaults(func=dispatch)


__all__ = ["add_fluxnet_arguments", "add_importers", "cmd_fluxnet"]
