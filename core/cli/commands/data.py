"""``hybridlab data``: the built-in sets, their committed samples, the truth sets, and the importers
(``data lucas``, ``data fluxnet``, ``data retention``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.fluxnet import add_importers
from core.cli.lucas import add_lucas_arguments
from core.errors import HybridlabError


def add_command(sub) -> None:
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


def cmd_lucas(a: argparse.Namespace) -> int:
    from core.cli.lucas import cmd_lucas as run_lucas

    return run_lucas(a)


def cmd_truth_sets(a: argparse.Namespace) -> int:
    from core.datasets.truth_sets import SETS, write_truth_sets
    from core.validation import check_integer

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
    from core.datasets import builtin_names, load_data, sources, write_samples

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
    formats = lambda kind: ", ".join(f"{s.name.removesuffix('-grid')} ({' '.join(s.suffixes)})" for s in sources(kind))
    print(f"files (train --data FILE --columns MAP): {formats('file')}")
    print(f"surveys (hybridlab data NAME --help): {', '.join(s.name for s in sources('survey'))}")
    print(f"grids (hybridlab map --grid FILE): {formats('grid')}")
    print(f"truth sets (hybridlab data truth-sets --out DIR): {', '.join(s.name for s in sources('truth'))}")
    return 0
