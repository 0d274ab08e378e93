"""The one registry of data sources: :class:`DataSourceSpec` by name.

Five kinds, each with its own ``load``:

- ``builtin``: a synthetic set with a known truth, made by code from ``n`` and a seed
  (``load(n=None, seed=0) -> HybridData``);
- ``file``: a user's table read with a column map (``load(path, columns, **options) -> HybridData``),
  chosen where ``matches(path)``;
- ``survey``: files as a survey or a network publishes them, assembled into one table and its column
  map (``load(...) -> Assembled``; ``hybridlab data lucas|fluxnet|retention``), in ``surveys/``;
- ``grid``: a covariate grid for ``hybridlab map`` (``load(path, max_pixels) -> xarray.Dataset``),
  chosen where ``matches(path)``;
- ``truth``: a synthetic SOC set of another structure than the built-in one, written as a user's
  file to check identifiability verdicts (``load(n, seed) -> (table, column map)``).

Adding a data source is one file in ``core/datasets/`` (or ``core/datasets/surveys/``) that defines
``DATA = DataSourceSpec(...)``, or a tuple of them when one module serves several.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from core.registry import Registry

KINDS = ("builtin", "file", "survey", "grid", "truth")


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
        What reads or makes it; its signature is the kind's (module docstring).
    rank : int
        Order of listing (data/README.md's sections).
    columns : dict
        column -> (unit, meaning), for a built-in set.
    sites : int, optional
        A built-in set's sites (or profiles) when no ``n`` is given.
    sample_sites : int, optional
        Sites of the small committed sample (``data/<name>-sample.csv``).
    matches : callable, optional
        ``file`` and ``grid``: whether a path is one of its files.
    suffixes : tuple of str
        ``file`` and ``grid``: the file suffixes it reads, for messages (``.tif``).
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
    suffixes: tuple[str, ...] = ()


DATA_SOURCES: Registry[DataSourceSpec] = Registry(
    "data source", DataSourceSpec, package=("core.datasets", "core.datasets.surveys"), attribute="DATA",
    skip=("base", "files", "incomplete", "shape", "registry", "surveys"), order=lambda s: (KINDS.index(s.kind), s.rank))


def sources(kind: str) -> list[DataSourceSpec]:
    """The registered sources of one kind, in order."""
    return [s for s in DATA_SOURCES.values() if s.kind == kind]


def matching_source(kind: str, path) -> DataSourceSpec | None:
    """The first source of ``kind`` (``file`` or ``grid``) whose ``matches`` takes ``path``, or None."""
    return next((s for s in sources(kind) if s.matches is not None and s.matches(str(path))), None)


__all__ = ["DATA_SOURCES", "DataSourceSpec", "KINDS", "matching_source", "sources"]
