"""``hybridlab data lucas``: its flags and the command. The table, its column map
(``.columns.json``) and its report (``.report.md``) are written together through
:func:`core.io.outputs.write_together`: all three into temporary siblings, flushed, then renamed,
so that a full disk or a Ctrl-C leaves the earlier three as they were. ``--overwrite`` replaces
only an earlier output of ``data lucas`` (the table's Parquet metadata says so), and no output
may be one of the inputs (compared by device and inode, links followed).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.errors import HybridlabError

#: the key of the table's Parquet metadata that marks it as data lucas's
MARKER = (b"hybridlab", b"data lucas")
REPORT_TITLE = "# LUCAS files joined"
ROLES = (("--soil", "soil", "LUCAS topsoil CSV (2018 or 2015): the points, with OC"),
         ("--bulk-density", "bulk_density", "bulk density and coarse fragments (BD 0-20, CF), keyed by POINT_ID"),
         ("--texture", "texture", "texture (Clay, Sand, Silt, Coarse), keyed by POINTID"),
         ("--fractions", "fractions", "SOC fractions (MAOC/MOC, POC)"),
         ("--mbc", "mbc", "microbial biomass carbon (MBC)"),
         ("--covariates", "covariates", "covariate stack (CSV or Parquet) keyed by the point id"))


def add_lucas_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of ``data lucas`` (``--out`` and ``--overwrite`` are the data command's)."""
    from core.datasets.surveys.reading import MAX_BYTES, MAX_COLUMNS

    for flag, _, what in ROLES:
        p.add_argument(flag, default=None, metavar="FILE", help=what)
    p.add_argument("--below-detection", default="nan", choices=["nan", "half", "limit"],
                   help="values such as '< LOD' or '<0.5': missing (default), half the limit, or the limit")
    p.add_argument("--encoding", default=None,
                   help="the files' encoding, e.g. cp1252 or latin-1 (default: UTF-8, a byte-order mark allowed)")
    p.add_argument("--decimal-mark", default="auto", choices=["auto", ".", ","],
                   help="decimal mark of the CSV files (default: found per file; a file using both is refused)")
    p.add_argument("--coarse-fragments", default="auto", choices=["auto", "fraction", "percent"],
                   help="unit of coarse fragments (default: found from the column; a column holding both refused)")
    p.add_argument("--max-bytes", type=int, default=MAX_BYTES,
                   help=f"refuse an input file larger than this (default {MAX_BYTES:,} bytes, 256 MiB)")
    p.add_argument("--max-columns", type=int, default=MAX_COLUMNS,
                   help=f"refuse an input file with more columns than this (default {MAX_COLUMNS:,})")


def _table_is_ours(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
    except Exception:  # noqa: BLE001 - not a Parquet file: not ours
        return False
    return metadata.get(MARKER[0]) == MARKER[1]


def _sidecar_is_ours(table: Path, path: Path) -> bool:
    """A column map or report beside a table of data lucas, in the form it writes."""
    if not _table_is_ours(table) or path.stat().st_size > 64 << 20:
        return False
    try:
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".report.md"):
            return text.startswith(REPORT_TITLE + "\n")
        mapping = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(mapping, dict) and set(mapping) == {"id", "targets", "forcing", "predictors", "units"}


def _outputs(a: argparse.Namespace, inputs: list[str]) -> list[Path]:
    """The table and its two sidecars, each checked before any work."""
    from core.io.outputs import check_output

    out = Path(a.out)
    if out.suffix != ".parquet":
        raise HybridlabError(f"{out}: --out must end in .parquet")
    table = check_output(out, overwrite=a.overwrite, inputs=inputs, owned=_table_is_ours)
    sidecars = [table.with_suffix(".columns.json"), table.with_suffix(".report.md")]
    return [table, *(check_output(path, overwrite=a.overwrite, inputs=inputs,
                                  owned=lambda p: _sidecar_is_ours(table, p)) for path in sidecars)]


def _write(paths: list[Path], assembled) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.io.json_files import write_json
    from core.io.outputs import write_together

    frame = pa.Table.from_pandas(assembled.table, preserve_index=False)
    frame = frame.replace_schema_metadata({**(frame.schema.metadata or {}), MARKER[0]: MARKER[1]})
    report = REPORT_TITLE + "\n\n" + "\n".join(f"- {line}" for line in assembled.report) + "\n"
    write_together({paths[0]: lambda temp: pq.write_table(frame, temp),
                    paths[1]: lambda temp: write_json(temp, assembled.columns),
                    paths[2]: lambda temp: temp.write_text(report, encoding="utf-8")})


def cmd_lucas(a: argparse.Namespace) -> int:
    """Join the LUCAS files and write the table, its column map and its report."""
    from core.datasets.surveys import LucasOptions, ReadOptions, assemble_lucas
    from core.io.outputs import claim_output
    from core.io.signals import Interrupted, raise_on_signals

    if not a.out or not a.soil:
        raise HybridlabError("data lucas needs --soil FILE and --out TABLE.parquet")
    files = {role: getattr(a, role) for _, role, _ in ROLES}
    options = LucasOptions(coarse_fragments=a.coarse_fragments,
                           read=ReadOptions(encoding=a.encoding, decimal_mark=a.decimal_mark, max_bytes=a.max_bytes,
                                            max_columns=a.max_columns).check())
    paths = _outputs(a, [path for path in files.values() if path])
    try:
        with raise_on_signals(), claim_output(paths[0]):
            assembled = assemble_lucas(files, a.below_detection, options)
            _write(paths, assembled)
    except Interrupted as stop:
        print(f"hybridlab data: stopped by {stop}; nothing was written to {a.out} (an earlier table there is kept)",
              file=sys.stderr)
        return stop.exit_code
    out = Path(a.out)
    shown = [out, out.with_suffix(".columns.json"), out.with_suffix(".report.md")]
    print("\n".join(assembled.report))
    print(f"{len(assembled.table)} points written to {shown[0]}; column map {shown[1]} (train --data {shown[0]} "
          f"--columns {shown[1]}); report {shown[2]}")
    return 0


__all__ = ["add_lucas_arguments", "cmd_lucas"]
