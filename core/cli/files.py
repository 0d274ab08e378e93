"""Output files of commands: where a file may be written and that it is not an input."""
from __future__ import annotations

from pathlib import Path

from core.errors import HybridlabError


def check_file_place(out: Path, wanted: str) -> None:
    """``out`` can become a file: not a folder or a link, in a folder that exists (``wanted``
    says what --out needs, for the message)."""
    if out.is_dir():
        raise HybridlabError(f"{out}: is a folder; --out needs {wanted}")
    if out.is_symlink():
        raise HybridlabError(f"{out}: is a symbolic link; give the file it points to or another --out")
    if not out.parent.is_dir():
        raise HybridlabError(f"{out}: the folder {out.parent} does not exist; create it first or choose another --out")


def check_output_file(path: str, overwrite: bool, inputs: list[str] = ()) -> Path:
    """An output file that is not one of the inputs, and not an existing file unless ``overwrite``."""
    from core.io.outputs import check_not_input

    out = Path(path)
    check_file_place(out, "a file name ending in .csv or .parquet")
    check_not_input(out, inputs)
    if out.exists() and not overwrite:
        raise HybridlabError(f"{out}: exists; choose another --out or give --overwrite")
    return out
