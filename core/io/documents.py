"""Reading plans, configs and column maps that someone else wrote, within bounds.

A plan is small: a model name, a few settings, a column map. Anything that is not small, or that
YAML could blow up while it is parsed, is refused before it is built into anything:

- at most :data:`MAX_BYTES` of text;
- no YAML anchors, aliases or explicit tags (``&a``, ``*a``, ``!!python/...``, ``!!binary``):
  aliases let 500 bytes expand into gigabytes;
- nesting at most :data:`MAX_DEPTH` deep, at most :data:`MAX_ITEMS` entries in a list or mapping
  and :data:`MAX_STRING` characters in a string, checked as the document is composed (a file of
  100,000 ``[`` never reaches Python's recursion limit).

Every refusal is a :class:`HybridlabError` of one line naming the source.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from core.errors import HybridlabError

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_ITEMS = 10_000
MAX_STRING = 10_000
#: tags that plain YAML gives its scalars, lists and mappings without anything written
_PLAIN_TAGS = (None, "!")


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses anchors, aliases and explicit tags, and bounds depth,
    sizes and string lengths while it composes the document."""

    def __init__(self, stream, source: str):
        super().__init__(stream)
        self.source, self.depth = source, 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise HybridlabError(f"{self.source}: YAML aliases (*name) are not accepted; write the values out")
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            raise HybridlabError(f"{self.source}: YAML anchors (&name) are not accepted; write the values out")
        if getattr(event, "tag", None) not in _PLAIN_TAGS:
            raise HybridlabError(f"{self.source}: YAML tags ({_shorten(event.tag)}) are not accepted")
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_STRING:
            raise HybridlabError(f"{self.source}: a value of {len(event.value):,} characters; at most {MAX_STRING:,}")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise HybridlabError(f"{self.source}: nested more than {MAX_DEPTH} levels deep")
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)) and len(node.value) > MAX_ITEMS:
            raise HybridlabError(f"{self.source}: a list or mapping of {len(node.value):,} entries; at most "
                                 f"{MAX_ITEMS:,}")
        return node


class _PlainDumper(yaml.SafeDumper):
    """Writes a value that appears twice in full, never as an anchor and an alias (which
    :func:`load_yaml` refuses)."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump_yaml(value) -> str:
    """YAML that :func:`load_yaml` reads back: no anchors, aliases or tags, keys in their order."""
    return yaml.dump(value, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def _shorten(text: str, length: int = 40) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _check_size(text: str | bytes, source: str) -> None:
    if len(text) > MAX_BYTES:
        raise HybridlabError(f"{source}: {len(text):,} bytes; a plan or config holds at most {MAX_BYTES:,}")


def load_yaml(text: str, source: str):
    """The value of a YAML (or JSON) document, within the bounds above.

    Parameters
    ----------
    text : str
        The document.
    source : str
        What to name in an error (a file, "the uploaded config", ...).

    Returns
    -------
    object
        Plain dicts, lists, strings, numbers, booleans and None.
    """
    _check_size(text, source)
    loader = _BoundedLoader(text, source)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise HybridlabError(f"{source}: not valid YAML{line}") from None
    finally:
        loader.dispose()


def load_json(text: str, source: str):
    """The value of a JSON document, within the bounds above (see :func:`load_yaml`)."""
    _check_size(text, source)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise HybridlabError(f"{source}: invalid JSON ({e.msg}, line {e.lineno})") from None
    except RecursionError:
        raise HybridlabError(f"{source}: nested more than {MAX_DEPTH} levels deep") from None
    check_bounds(value, source)
    return value


def check_bounds(value, source: str, depth: int = 1) -> None:
    """Refuse a parsed value nested more than :data:`MAX_DEPTH` deep, with a container of more
    than :data:`MAX_ITEMS` entries or a string of more than :data:`MAX_STRING` characters."""
    if depth > MAX_DEPTH:
        raise HybridlabError(f"{source}: nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise HybridlabError(f"{source}: a value of {len(value):,} characters; at most {MAX_STRING:,}")
    if isinstance(value, (list, dict)):
        if len(value) > MAX_ITEMS:
            raise HybridlabError(f"{source}: a list or mapping of {len(value):,} entries; at most {MAX_ITEMS:,}")
        for item in (value.items() if isinstance(value, dict) else value):
            if isinstance(item, tuple):
                check_bounds(item[0], source, depth + 1)
                item = item[1]
            check_bounds(item, source, depth + 1)


def read_document(path: str | Path, source: str | None = None):
    """A YAML or JSON file (by its suffix) read within the bounds; its size is checked before
    it is read."""
    path = Path(path)
    source = source or str(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise HybridlabError(f"{source}: cannot be read ({e.strerror or e})") from None
    if size > MAX_BYTES:
        raise HybridlabError(f"{source}: {size:,} bytes; a plan or config holds at most {MAX_BYTES:,}")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise HybridlabError(f"{source}: cannot be read as text ({type(e).__name__})") from None
    return load_json(text, source) if path.suffix == ".json" else load_yaml(text, source)
