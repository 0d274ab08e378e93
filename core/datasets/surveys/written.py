"""Where an importer's outputs go and how they are written: the table (Parquet), its column map
(``.columns.json``) and its report (``.report.md``), checked before any work (none of them an
input, none replaced unless ``--overwrite`` and the importer itself wrote it) and written
together through :func:`core.io.outputs.write_together` (a failed or interrupted write leaves the
earlier three as they were). Used by ``data fluxnet`` and ``data retention``; each importer marks
its tables with its own name in the Parquet metadata.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import DataError
from core.io.outputs import check_output

#: the Parquet metadata key that names the importer that wrote a table
KEY = b"hybridlab"
#: the keys of a column map an importer writes
MAP_KEYS = {"id", "targets", "forcing", "predictors", "units"}


@dataclass(frozen=True)
class ImportOutputs:
    """The three output paths of one importer run and the importer's name (``data fluxnet``)."""

    table: Path
    columns: Path
    report: Path
    writer: str

    @property
    def title(self) -> str:
        return f"# hybridlab {self.writer}"


def _written_by(table: Path, writer: str) -> bool:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(table).metadata or {}
    except Exception:  # noqa: BLE001 - not a Parquet file: not ours
        return False
    return metadata.get(KEY) == writer.encode()


def _sidecar_written_by(table: Path, path: Path, writer: str) -> bool:
    """A column map or a report beside a table this importer wrote, in the form it writes them."""
    if not _written_by(table, writer) or path.stat().st_size > 64 << 20:
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if path.name.endswith(".report.md"):
        return text.startswith(f"# hybridlab {writer}\n")
    try:
        mapping = json.loads(text)
    except ValueError:
        return False
    return isinstance(mapping, dict) and set(mapping) == MAP_KEYS


def import_outputs(out: str | None, writer: str, inputs: list[str], overwrite: bool) -> ImportOutputs:
    """The checked output paths for ``--out TABLE.parquet`` (see the module's text)."""
    if not out:
        raise DataError(f"{writer} needs --out TABLE.parquet")
    path = Path(out)
    if path.suffix != ".parquet":
        raise DataError(f"{path}: --out must end in .parquet")
    table = check_output(path, overwrite=overwrite, inputs=inputs, owned=lambda p: _written_by(p, writer))
    columns, report = (check_output(table.with_suffix(suffix), overwrite=overwrite, inputs=inputs,
                                    owned=lambda p: _sidecar_written_by(table, p, writer))
                       for suffix in (".columns.json", ".report.md"))
    return ImportOutputs(table, columns, report, writer)


def write_import(outputs: ImportOutputs, table: pd.DataFrame, columns: dict, report: list[str]) -> None:
    """Write the table (marked as the importer's), its column map and its report together."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from core.io.json_files import write_json
    from core.io.outputs import write_together

    frame = pa.Table.from_pandas(table, preserve_index=False)
    frame = frame.replace_schema_metadata({**(frame.schema.metadata or {}), KEY: outputs.writer.encode()})
    text = outputs.title + "\n\n" + "\n".join(f"- {line}" for line in report) + "\n"
    write_together({outputs.table: lambda temp: pq.write_table(frame, temp),
                    outputs.columns: lambda temp: write_json(temp, columns),
                    outputs.report: lambda temp: temp.write_text(text, encoding="utf-8")})


def run_import(out: str | None, overwrite: bool, writer: str, inputs: list[str], assemble) -> int:
    """Check the outputs, ``assemble()`` (an Assembled), write the three files and print the
    report; the exit status (128 + the signal where SIGINT or SIGTERM stopped it)."""
    import sys

    from core.io.outputs import claim_output
    from core.io.signals import Interrupted, raise_on_signals

    outputs = import_outputs(out, writer, inputs, overwrite)
    try:
        with raise_on_signals(), claim_output(outputs.table):
            assembled = assemble()
            write_import(outputs, assembled.table, assembled.columns, assembled.report)
    except Interrupted as stop:
        print(f"hybridlab data: stopped by {stop}; nothing was written to {out} (an earlier table there is kept)",
              file=sys.stderr)
        return stop.exit_code
    print("\n".join(assembled.report))
    print(f"{len(assembled.table)} rows written to {out}; column map {outputs.columns} (train --data {out} "
          f"--columns {outputs.columns}); report {outputs.report}")
    return 0


__all__ = ["ImportOutputs", "import_outputs", "run_import", "write_import"]
