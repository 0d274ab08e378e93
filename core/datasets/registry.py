"""The one registry of data sources: :class:`DataSourceSpec` by name.

Two kinds today: ``builtin`` (a synthetic set with a known truth, made by code from ``n`` and a
seed: ``load(n=None, seed=0) -> HybridData``) and ``file`` (a user's table read with a column map:
``load(path, columns, **options) -> HybridData``, chosen where ``matches(path)``). Adding a data
source is one file in ``core/datasets/`` that defines ``DATA = DataSourceSpec(...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from core.registry import Registry

KINDS = ("builtin", "file")


@dataclass(frozen=True)
class DataSourceSpec:
    """A data source.

    Parameters
    ----------
    name : str
        What a plan names it by (``lucas-synthetic``), or the kind of file (``table``).
    kind : str
        One of :data:`KINDS`.
    description : str
        What it is, in a sentence or a paragraph (written into data/README.md for a built-in set).
    load : callable
        ``builtin``: ``load(n=None, seed=0)``; ``file``: ``load(path, columns, **options)``; both return
        a ``HybridData``.
    rank : int
        Order of listing (data/README.md's sections).
    columns : dict
        column -> (unit, meaning), for a built-in set.
    sites : int, optional
        A built-in set's sites (or profiles) when no ``n`` is given.
    sample_sites : int, optional
        Sites of the small committed sample (``data/<name>-sample.csv``).
    matches : callable, optional
        ``file``: whether a path is one of its files.
    """

    name: str
    kind: str
    description: str
    load: Callable
    rank: int = 0
    columns: dict = field(default_factory=dict)
    sites: int | None = None
    sample_sites: int | None = None
    matches: Callable[[str], bool] | None = None


DATA_SOURCES: Registry[DataSourceSpec] = Registry(
    "data source", DataSourceSpec, package="core.datasets", attribute="DATA",
    skip=("base", "files", "incomplete", "shape", "registry"), order=lambda s: (KINDS.index(s.kind), s.rank))


def sources(kind: str) -> list[DataSourceSpec]:
    """The registered sources of one kind, in order."""
    return [s for s in DATA_SOURCES.values() if s.kind == kind]


__all__ = ["DATA_SOURCES", "DataSourceSpec", "KINDS", "sources"]
