"""A user's uploaded data file: kept in a temporary file while the session lives, read for the
column-mapping form (:class:`~app.state.mapping.ColumnMapping`), and loaded with the form's mapping
whenever the form changes, so that the data a training gets are always those the form shows.
Problems become one-line messages naming the file and column."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import param

import core
from core.datasets import load_file, read_table, table_shape
from core.io import MAX_BYTES, load_json

from app.limits import ServerLimits
from app.state.mapping import ColumnMapping, mapping_problems

#: how the data selector names an uploaded file
UPLOADED_PREFIX = "uploaded: "


def _sites(data) -> int:
    return int(data.frame[data.id].nunique())


class Upload(param.Parameterized):
    """The uploaded file of one session (at most one at a time) and its column mapping."""

    filename = param.String(default="", doc="the file last uploaded, also when it could not be read")
    path = param.Parameter(default=None, doc="the temporary copy (pathlib.Path), None before an upload")
    data = param.Parameter(default=None, doc="core.HybridData: the file loaded with the form's mapping; None while "
                                             "it does not load")
    message = param.String(default="", doc="what was read from the file")
    loaded = param.String(default="", doc="what the form's mapping loads: rows, sites, predictors, targets")
    error = param.String(default="", doc="why the file, or the file with the form's mapping, does not load")
    notes = param.List(default=[], item_type=str, doc="one-line notes of the load (rows left out, columns not taken)")
    map_file = param.String(default="", doc="the column map file last put into the form")
    map_error = param.String(default="", doc="why a column map file was refused (the form stays as it was)")
    mapping = param.ClassSelector(class_=ColumnMapping, doc="the mapping form")
    spec = param.Parameter(default=None, doc="the model the form maps the columns for (core.ModelSpec)")
    chosen = param.Event(doc="a file was read or a column map put into the form: train on the upload")
    limits = param.ClassSelector(class_=ServerLimits, default=ServerLimits(), doc="the server's limits on uploads")

    def __init__(self, **params):
        params.setdefault("mapping", ColumnMapping())
        super().__init__(**params)
        self._pending: dict | None = None  # a column map that came before its table
        self.mapping.param.watch(lambda *_: self.load(), "changed")

    @property
    def label(self) -> str:
        """The data selector's name for the file, e.g. 'uploaded: mysoil.csv'; empty without one."""
        return UPLOADED_PREFIX + self.filename if self.filename else ""

    def _message(self, error: Exception | str) -> str:
        text = str(error)
        if self.path is not None:  # core names the temporary copy by its path or its name
            text = text.replace(str(self.path), self.filename).replace(Path(self.path).name, self.filename)
        return text if text.startswith(self.filename) else f"{self.filename}: {text}"

    def read(self, filename: str, content: bytes) -> pd.DataFrame | None:
        """Keep the file, read its table, fill the form and load the file with it; sets ``error``
        on problems. Size, rows and columns are checked against the limits before the table is decoded."""
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
                problems = [self._message(e).removeprefix(f"{filename}: ")]
        if problems:  # still the data chosen, so that Train says why instead of training other data
            self.discard()
            self.param.update(filename=filename, error=f"{filename}: {'; '.join(problems)}")
            self.param.trigger("chosen")
            return None
        self.message = f"{filename}: {len(frame)} rows, {len(frame.columns)} columns; map the columns below " \
                       f"(Train uses the mapping as shown)"
        given, self._pending, columns = self._pending, None, [str(c) for c in frame.columns]
        if given is not None and mapping_problems(given, columns):
            self.map_error = f"{self.map_file} for {filename}: {'; '.join(mapping_problems(given, columns))}"
            given = None
        self.mapping.fill(columns, self.spec, given)  # loads the file
        self.param.trigger("chosen")
        return frame

    def refuse(self, filename: str, text: str) -> None:
        """A file refused before it was read (e.g. over the size limit while it arrived)."""
        self.discard()
        self.param.update(filename=filename, error=text)
        self.param.trigger("chosen")

    @param.depends("spec", watch=True)
    def _new_model(self) -> None:
        if self.mapping.columns and self.spec is not None:
            self.mapping.fill(self.mapping.columns, self.spec)  # its targets and forcing; loads the file

    def load(self) -> bool:
        """Load the kept file with the form's mapping; ``data`` holds the result, ``error`` why not."""
        if self.path is None or self.spec is None:
            return False
        spec = self.spec
        try:
            data = load_file(self.path, self.mapping.to_dict(), nonnegative=spec.nonnegative, positive=spec.positive)
            problems = self.limits.check_sites(_sites(data))
        except core.HybridlabError as e:
            data, problems = None, [self._message(e).removeprefix(f"{self.filename}: ")]
        if problems:
            self.param.update(data=None, notes=[], loaded="", error=f"{self.filename}: {'; '.join(problems)}")
            return False
        predictors = ", ".join(data.predictors[:8]) + (f" and {len(data.predictors) - 8} more"
                                                      if len(data.predictors) > 8 else "")
        self.param.update(data=data, error="", notes=[self._message(n) for n in getattr(data, "notes", [])],
                          loaded=f"Train uses {len(data.frame)} rows of {_sites(data)} sites; targets "
                                 f"{', '.join(data.targets)}; {len(data.predictors)} predictor(s) ({predictors})")
        return True

    def use_mapping(self, mapping, source: str = "column mapping") -> bool:
        """Put a column map (as ``train --columns MAP.json`` takes it) into the form, all or nothing,
        and load the file with it. Before a table is uploaded, it is kept for the next one."""
        problems = mapping_problems(mapping, self.mapping.columns if self.path is not None else None)
        if problems:
            where = f"{source} for {self.filename}" if self.path is not None else source
            self.map_error = f"{where}: {'; '.join(problems)}"
            return False
        self.param.update(map_file=source, map_error="")
        if self.path is None:
            self._pending = mapping
            return True
        self.mapping.fill(self.mapping.columns, self.spec, mapping)  # loads the file
        self.param.trigger("chosen")
        return True

    def load_map_file(self, filename: str, content: bytes) -> bool:
        """A ``*.columns.json`` (``hybridlab data lucas``) or a MAP.json into the form (:meth:`use_mapping`)."""
        if len(content) > MAX_BYTES:
            self.map_error = f"{filename}: {len(content):,} bytes; a column map holds at most {MAX_BYTES:,}"
            return False
        try:
            mapping = load_json(content.decode("utf-8", errors="replace"), filename)
        except core.HybridlabError as e:
            self.map_error = str(e)
            return False
        return self.use_mapping(mapping, filename)

    def discard(self) -> None:
        """Remove the temporary copy (also when the session ends)."""
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
        self.path = None
        self.mapping.clear()
        self.param.update(data=None, filename="", message="", loaded="", error="", notes=[])
