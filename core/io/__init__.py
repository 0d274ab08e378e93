"""Files hybridlab reads and writes: documents (plans, column maps) read within bounds
(:mod:`~core.io.documents`), JSON without non-finite numbers (:mod:`~core.io.json_files`), and the one
way an output is claimed and written without touching a file hybridlab did not write
(:mod:`~core.io.outputs`)."""

from core.io.documents import MAX_BYTES, load_json

__all__ = ["MAX_BYTES", "load_json"]
