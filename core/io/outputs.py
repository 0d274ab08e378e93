"""The one way hybridlab writes an output (a table, a sidecar, a map, a log, a validation file).

- :func:`check_output` before any work: ``--out`` is not a link, its folder exists, it is none of
  the inputs (compared by file identity, device and inode, through links, and by what lies
  inside a folder), and it is new, or (with ``--overwrite``) something hybridlab wrote: a folder
  whose manifest (:data:`MANIFEST`) lists every file in it, a file its ``owned`` check accepts.
- :func:`replacing`: the output is written into a temporary sibling (``.NAME.partial-PID-...``),
  flushed to disk, then renamed into place; the old output stays until the new one is complete,
  and a failed or interrupted write removes the sibling and leaves the old output as it was.
- :func:`claim_output`: one writer per output at a time (a lock file beside it, removed after).
- signals (:mod:`core.io.signals`): a SIGINT or SIGTERM that arrived is raised again before
  an output is renamed into place, so a stopped command never completes one.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator

from core.errors import HybridlabError
from core.io.signals import check_signals

#: inside a folder output: what hybridlab wrote there ({"written_by", "files": [relative paths]})
MANIFEST = ".hybridlab-output.json"
#: the most entries walked in an input or output tree when comparing identities
WALK_LIMIT = 200_000
#: the largest manifest read (bytes)
MANIFEST_MAX_BYTES = 64 << 20


def _walk(root: Path, follow: bool) -> Iterator[Path]:
    """root and everything under it (at most :data:`WALK_LIMIT` entries)."""
    yield root
    if not root.is_dir() or (root.is_symlink() and not follow):
        return
    count = 0
    for folder, dirs, files in os.walk(root, followlinks=follow):
        for name in dirs + files:
            count += 1
            if count > WALK_LIMIT:
                return
            yield Path(folder) / name


def _identities(paths: Iterable[Path]) -> set[tuple[int, int]]:
    found = set()
    for path in paths:
        with contextlib.suppress(OSError):
            info = path.stat()
            found.add((info.st_dev, info.st_ino))
    return found


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _relation(out: Path, real_out: Path, out_ids: set, source: Path) -> str | None:
    """How ``out`` meets the input ``source``, in words ("is the input file X", ...), or None."""
    real_source = source.resolve()
    tree = list(_walk(source, follow=True))
    if real_out == real_source or (not source.is_dir() and out_ids & _identities([source])):
        return f"is the input {'folder' if source.is_dir() else 'file'} {source}"
    if source.is_dir() and _inside(real_out, real_source):
        return f"lies inside the input folder {source}"
    if _inside(real_source, real_out) or any(_inside(p.resolve(), real_out) for p in tree if p.is_symlink()):
        return f"holds the input {source}"
    if out_ids & _identities(tree):
        return f"shares a file with the input {source} (a hard or symbolic link)"
    return None


def check_not_input(out: Path, inputs: Iterable[str | Path], flag: str = "--out") -> None:
    """Refuse an output that is one of ``inputs``, holds one or lies inside one: by resolved path
    and by identity (device, inode) of the files and folders on both sides, links followed."""
    real_out = out.resolve()
    out_ids = _identities(_walk(out, follow=False)) if out.exists() else set()
    for source in (Path(s) for s in inputs if s):
        if not source.exists():
            continue
        relation = _relation(out, real_out, out_ids, source)
        if relation:
            raise HybridlabError(f"{out}: {relation}, which is being read; choose another {flag}")


def written_files(folder: Path) -> list[str] | None:
    """The files a folder's manifest lists, or None when it has no readable manifest."""
    path = folder / MANIFEST
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MANIFEST_MAX_BYTES:
            return None
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    files = manifest.get("files") if isinstance(manifest, dict) and manifest.get("written_by") == "hybridlab" else None
    return files if isinstance(files, list) and all(isinstance(f, str) for f in files) else None


def foreign_entries(folder: Path) -> list[str]:
    """What lies in ``folder`` that its manifest does not list (all of it without a manifest)."""
    listed = set(written_files(folder) or ())
    foreign = []
    for path in _walk(folder, follow=False):
        relative = path.relative_to(folder).as_posix()
        if path == folder or relative == MANIFEST or (path.is_dir() and not path.is_symlink()):
            continue
        if path.is_symlink() or relative not in listed:
            foreign.append(relative)
    return foreign if written_files(folder) is not None else (foreign or ["(no manifest)"])


def check_output(path: str | Path, *, overwrite: bool, inputs: Iterable[str | Path] = (), folder: bool = False,
                 owned: Callable[[Path], bool] | None = None, flag: str = "--out") -> Path:
    """The absolute output path, checked before any work (see the module's text); one line
    naming the path and ``flag`` otherwise. ``owned(path)``: whether an existing file is an
    output hybridlab wrote (None: any regular file may be replaced with ``overwrite``)."""
    out = Path(path).absolute()
    if out.is_symlink():
        raise HybridlabError(f"{out}: is a symbolic link; give the file it points to or another {flag}")
    if not out.parent.is_dir():
        raise HybridlabError(f"{out}: the folder {out.parent} does not exist; create it first or choose another {flag}")
    check_not_input(out, inputs, flag)
    if out.is_dir() and not folder:
        raise HybridlabError(f"{out}: is a folder; {flag} needs a file name")
    if not out.exists():
        return out
    if not overwrite:
        raise HybridlabError(f"{out}: exists; choose another {flag} or give --overwrite")
    if folder:
        foreign = foreign_entries(out) if out.is_dir() else ["(not a folder)"]
        if foreign:
            raise HybridlabError(f"{out}: holds what hybridlab did not write ({', '.join(foreign[:3])}); --overwrite "
                                 f"replaces only an earlier output of hybridlab; choose another {flag}")
    elif not out.is_file():
        raise HybridlabError(f"{out}: is not a regular file; {flag} needs a file name")
    elif owned is not None and not owned(out):
        raise HybridlabError(f"{out}: exists and was not written by hybridlab; --overwrite replaces only an earlier "
                             f"output of the same kind; choose another {flag}")
    return out


def partial_path(out: Path, kind: str = "partial") -> Path:
    """A fresh hidden sibling of ``out`` (same folder, so the final rename stays on one disk)."""
    return out.parent / f".{out.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}{out.suffix}"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _seal_folder(temp: Path) -> None:
    """Flush every file of a finished folder output and write its manifest (last)."""
    files = []
    for path in _walk(temp, follow=False):
        if path.is_file() and not path.is_symlink():
            _fsync(path)
            files.append(path.relative_to(temp).as_posix())
    manifest = temp / MANIFEST
    manifest.write_text(json.dumps({"written_by": "hybridlab", "files": sorted(files)}))
    _fsync(manifest)
    _fsync(temp)


def _swap_in(temp: Path, out: Path) -> None:
    """Rename the finished ``temp`` to ``out``; an old output is moved aside first and removed
    only once the new one is in place (put back if the rename fails)."""
    if out.is_dir() and not out.is_symlink():
        old = partial_path(out, "old")
        os.rename(out, old)
        try:
            os.rename(temp, out)
        except BaseException:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temp, out)
    _fsync(out.parent)


@contextlib.contextmanager
def replacing(out: str | Path, *, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling path to write the output into (a file, or with ``folder`` a
    folder the caller creates); on success it is flushed and renamed to ``out``, replacing an old
    output only then; on any error or interruption it is removed and the old output stays."""
    out = Path(out).absolute()
    temp = partial_path(out)
    try:
        yield temp
        if not temp.exists():
            raise HybridlabError(f"{out}: nothing was written")
        if folder:
            _seal_folder(temp)
        else:
            _fsync(temp)
        check_signals()
        _swap_in(temp, out)
    finally:
        _remove(temp)


def write_file(out: str | Path, write: Callable[[Path], object]) -> Path:
    """``write(temporary path)`` writes the file, which then replaces ``out`` (see :func:`replacing`)."""
    with replacing(out) as temp:
        write(temp)
    return Path(out)


def write_text(out: str | Path, text: str) -> Path:
    """``text`` (UTF-8) as the file ``out``, written through :func:`replacing`."""
    return write_file(out, lambda temp: temp.write_text(text, encoding="utf-8"))


def write_together(writers: dict[str | Path, Callable[[Path], object]]) -> list[Path]:
    """Files that belong together (a table and its sidecars): each ``write(temporary path)``
    writes one, all are flushed, and only then is each renamed into place; a failed or
    interrupted write replaces none of them (see :func:`replacing`)."""
    temps = {Path(out).absolute(): partial_path(Path(out).absolute()) for out in writers}
    try:
        for (out, temp), write in zip(temps.items(), writers.values()):
            write(temp)
            if not temp.is_file():
                raise HybridlabError(f"{out}: nothing was written")
            _fsync(temp)
        check_signals()
        for out, temp in temps.items():
            _swap_in(temp, out)
    finally:
        for temp in temps.values():
            _remove(temp)
    return list(temps)


@contextlib.contextmanager
def claim_output(out: str | Path, flag: str = "--out", what: str = "output") -> Iterator[Path]:
    """Hold the writer's lock of ``out``: the lock file ``.NAME.lock`` beside it, locked through
    :mod:`filelock` (released by the system if the process dies) and removed while still held. A
    second process writing the same output fails at once with one line."""
    from filelock import FileLock, Timeout

    out = Path(out).absolute()
    lock_path = out.parent / f".{out.name}.lock"
    lock = FileLock(lock_path, is_singleton=False, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise HybridlabError(f"{out}: another hybridlab process is writing this {what}; wait for it to finish or "
                             f"choose another {flag}") from None
    try:
        yield out
    finally:
        lock_path.unlink(missing_ok=True)
        lock.release()


__all__ = ["MANIFEST", "check_not_input", "check_output", "claim_output", "foreign_entries", "partial_path",
           "replacing", "write_file", "write_text", "write_together", "written_files"]
