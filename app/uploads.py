"""A user's uploaded data file: kept in a temporary file while the session lives, read for the
column-mapping form, loaded with a mapping; problems become one-line messages naming the file."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import param

import core
from core.datasets import load_file, read_table

UPLOAD_LIMIT_MB = 50


class Upload(param.Parameterized):
    """The uploaded file of one session (at most one at a time)."""

    filename = param.String(default="")
    path = param.Parameter(default=None, doc="the temporary copy (pathlib.Path), None before an upload")
    data = param.Parameter(default=None, doc="core.HybridData once a mapping is applied")
    message = param.String(default="")

    def _message(self, error: Exception) -> str:
        return str(error).replace(str(self.path), self.filename)

    def read(self, filename: str, content: bytes) -> pd.DataFrame | None:
        """Keep the file and read its table for the mapping form; sets ``message`` on problems."""
        self.discard()
        if len(content) > UPLOAD_LIMIT_MB * 1e6:
            self.message = f"{filename}: {len(content) / 1e6:.0f} MB is over the {UPLOAD_LIMIT_MB} MB limit"
            return None
        suffix = Path(filename).suffix.lower() or ".csv"
        with tempfile.NamedTemporaryFile(prefix="hybridlab-upload-", suffix=suffix, delete=False) as tmp:
            tmp.write(content)
        self.filename, self.path = filename, Path(tmp.name)
        try:
            frame = read_table(self.path)
        except core.DataError as e:
            self.message = self._message(e)
            self.discard(keep_message=True)
            return None
        self.message = f"{filename}: {len(frame)} rows, {len(frame.columns)} columns; map the columns below"
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
        self.data = data
        self.message = (f"{self.filename}: loaded {len(data.frame)} rows, {len(data.predictors)} predictors, "
                        f"targets {', '.join(data.targets)}")
        return True

    def discard(self, keep_message: bool = False) -> None:
        """Remove the temporary copy (also when the session ends)."""
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
        self.param.update(path=None, data=None, **({} if keep_message else {"message": ""}))
