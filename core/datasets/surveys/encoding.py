"""A file's text, decoded one way for the whole file: UTF-8 (a byte-order mark is dropped), or
the encoding named by ``--encoding`` (``cp1252``, ``latin-1``, ...). Nothing is guessed: a file
that does not decode is refused, naming the line and the first byte that does not fit, with the
encoding it would read as when that is cp1252 (Windows-1252, common for CSV files saved by
Excel). A file is never decoded half one way and half another.
"""
from __future__ import annotations

import codecs
from pathlib import Path

from core.errors import DataError
from core.formatting import short_repr

#: what a file is read as when no encoding is named
DEFAULT = "utf-8"
_BOMS = {codecs.BOM_UTF16_LE: "utf-16", codecs.BOM_UTF16_BE: "utf-16", codecs.BOM_UTF32_LE: "utf-32"}


def codec_name(encoding: str | None) -> str:
    """The codec's canonical name (``cp1252``, ``utf-8``); DataError for an unknown name."""
    try:
        return codecs.lookup(encoding or DEFAULT).name
    except (LookupError, TypeError, ValueError):
        raise DataError(f"--encoding: unknown encoding {short_repr(encoding)}; use e.g. utf-8, cp1252, "
                        f"latin-1") from None


def _position(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, byte {column} of the line"


def _hint(raw: bytes, name: str) -> str:
    for bom, other in _BOMS.items():
        if raw.startswith(bom):
            return f"; it starts with a {other.upper()} byte-order mark: give --encoding {other}"
    if name == "utf-8":
        try:
            raw.decode("cp1252")
        except UnicodeDecodeError:
            return "; save it as UTF-8, or give --encoding with the one it was saved in"
        return "; if it was saved as Windows-1252 (Excel's CSV), give --encoding cp1252, else save it as UTF-8"
    return "; give the encoding it was saved in with --encoding"


def decode(raw: bytes, path: Path, encoding: str | None = None) -> str:
    """The whole file as text in one encoding (see the module's text); DataError naming the line
    and byte where it does not decode."""
    name = codec_name(encoding)
    try:
        return raw.decode("utf-8-sig" if name == "utf-8" else name)
    except UnicodeDecodeError as e:
        byte = raw[e.start:e.start + 1].hex().upper()
        raise DataError(f"{path.name}: {_position(raw, e.start)}: byte 0x{byte} is not {name} text (the whole file "
                        f"is read as {name}){_hint(raw, name)}") from None


__all__ = ["DEFAULT", "codec_name", "decode"]
