"""A user's uploaded data file: kept in a temporary file while the session lives, read for the
column-mapping form, loaded with a mapping; problems become one-line messages naming the file."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import param

import core
from core.datasets import load_file, read_table, table_shape

from app.limits import ServerLimits


class Upload(param.Parameterized):
    """The uploaded file of one session (at most one at a time)."""

    filename = param.String(default="")
    path = param.Parameter(default=None, doc="the temporary copy (pathlib.Path), None before an upload")
    data = param.Parameter(default=None, doc="core.HybridData once a mapping is applied")
    message = param.String(default="")
    columns = param.List(default=[], doc="the kept file's columns, for the mapping form")
    limits = param.ClassSelector(class_=ServerLimits, default=ServerLimits(), doc="the server's limits on uploads")

    def _message(self, error: Exception) -> str:
        return str(error).replace(str(self.path), self.filename)

    def read(self, filename: str, content: bytes) -> pd.DataFrame | None:
        """Keep the file and read its table for the mapping form; sets ``message`` on problems. Size,
        rows and columns are checked against the limits before the table is decoded."""
        self.discard()
        problems = self.limits.check_upload(len(content))
        frame = None
        if not problems:
            suffix = Path(filename).suffix.lower() or ".csv"
            with tempfile.NamedTemporaryFile(prefix="hybridlab-upload-", suffix=suffix, delete=False) as tmp:
                tmp.write(content)
            self.filename, self.path = filename, Path(tmp.name)
            try:
                problems = self.limits.check_table(table_shape(self.path))
                frame = None if problems else read_table(self.path)
                problems = problems or self.limits.check_decoded(int(frame.memory_usage(deep=True).sum()))
            except core.DataError as e:
                problems = [self._message(e)]
        if problems:
            self.message = f"{filename}: {'; '.join(problems)}"
            self.discard(keep_message=True)
            return None
        self.message = f"{filename}: {len(frame)} rows, {len(frame.columns)} columns; map the columns below"
        self.columns = [str(c) for c in frame.columns]
        return frame

    def apply_mapping(self, mapping: dict, spec: core.ModelSpec) -> bool:
        """Load the kept file with a column mapping (as the CLI's MAP.json) for ``spec``'s model."""
        if self.path is None:
            self.message = "upload a file first"
            return False
        try:
            data = load_file(self.path, mapping, nonnegative=spec.nonnegative, positive=spec.positive)
        except core.DataError as e:
            self.message = self._message(e)
            return False
        problems = self.limits.check_sites(data.frame[data.id].nunique())
        if problems:
            self.message = f"{self.filename}: {'; '.join(problems)}"
            return False
        self.data = data
        self.message = (f"{self.filename}: loaded {len(data.frame)} rows, {len(data.predictors)} predictors, "
                        f"targets {', '.join(data.targets)}")
        return True

    def discard(self, keep_message: bool = False) -> None:
        """Remove the temporary copy (also when the session ends)."""
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
        self.param.update(path=None, data=None, filename="", columns=[], **({} if keep_message else {"message": ""}))
