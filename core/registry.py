"""The one shape of every extension point: a :class:`Registry` of specs found by name.

A registry holds frozen specs (``ModelSpec``, ``BaselineSpec``, ``IntervalMethod``,
``SampleSource``, ``DataSourceSpec``), each with a ``name``. Adding one is adding one file to the
registry's package: the file defines a module-level spec under the registry's ``attribute``
(``MODEL``, ``BASELINE``, ``METHOD``, ``SOURCE``, ``DATA``) and is found the first time the registry
is read (:meth:`Registry.names`, :meth:`Registry.get`). :meth:`Registry.register` adds one from
elsewhere (a notebook, a test). An unknown name is one line that lists the registered ones.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable, Generic, Iterator, TypeVar

from core.errors import HybridlabError
from core.formatting import short_repr

Spec = TypeVar("Spec")


class Registry(Generic[Spec]):
    """Specs of one kind, by name.

    Parameters
    ----------
    what : str
        What a spec is, for messages (``"model"``, ``"interval method"``).
    kind : type
        The spec class; anything else is refused.
    package : str or tuple of str, optional
        Package(s) whose modules are imported on first use; each one's ``attribute`` (a ``kind``, or
        a tuple of them) is registered.
    attribute : str
        The module-level name a spec is found under.
    skip : tuple of str
        Module names of ``package`` that hold no spec (the spec's own module, a template).
    order : callable, optional
        Sort key of a spec for :meth:`names` (default: registration order).
    """

    def __init__(self, what: str, kind: type, package: str | tuple[str, ...] | None = None, attribute: str = "SPEC",
                 skip: tuple[str, ...] = (), order: Callable | None = None):
        self.what, self.kind, self.package, self.attribute = what, kind, package, attribute
        self.skip, self.order = tuple(skip), order
        self._specs: dict[str, Spec] = {}
        self._found = package is None

    def _discover(self) -> None:
        if self._found:
            return
        self._found = True
        for package in (self.package,) if isinstance(self.package, str) else self.package:
            for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
                if info.name.startswith("_") or info.name in self.skip:
                    continue
                found = getattr(importlib.import_module(f"{package}.{info.name}"), self.attribute, None)
                for spec in found if isinstance(found, tuple) else (found,):
                    if isinstance(spec, self.kind):
                        self.register(spec)

    def register(self, spec: Spec, replace: bool = False) -> Spec:
        """Add ``spec`` under ``spec.name``; a second spec of one name is refused unless ``replace``."""
        self._discover()
        if not isinstance(spec, self.kind):
            raise HybridlabError(f"a {self.what} must be a {self.kind.__name__}, got {type(spec).__name__}")
        if spec.name in self._specs and not replace:
            raise HybridlabError(f"{self.what} name {short_repr(spec.name)} is registered twice")
        self._specs[spec.name] = spec
        return spec

    def names(self) -> list[str]:
        """The registered names, in :attr:`order` (or as registered)."""
        self._discover()
        if self.order is None:
            return list(self._specs)
        return sorted(self._specs, key=lambda name: self.order(self._specs[name]))

    def get(self, name: str) -> Spec:
        """The spec called ``name``; one line naming the registered ones otherwise."""
        self._discover()
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            raise HybridlabError(f"unknown {self.what} {short_repr(name)}; registered: "
                                 f"{', '.join(self.names())}") from None

    def values(self) -> list[Spec]:
        return [self._specs[name] for name in self.names()]

    def __contains__(self, name) -> bool:
        self._discover()
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __getitem__(self, name: str) -> Spec:
        return self.get(name)


__all__ = ["Registry"]
