"""Registry of models.

Each module in this package that defines ``MODEL = ModelSpec(...)`` is registered under
``MODEL.name`` when the registry is first used: adding a model is adding one file (see
``template.py``). :func:`register_model` adds one from elsewhere (a notebook, a test). The pure
neural network is registered as ``nn``. Runs name their model; nothing else resolves code.
"""
from __future__ import annotations

import importlib
import pkgutil

from ..errors import HybridlabError
from .spec import ModelSpec, NetworkSpec, ResponseCurve

NEURAL_NETWORK = "nn"

_REGISTRY: dict[str, ModelSpec] = {}
_DISCOVERED: list[bool] = []


def _discover() -> None:
    if _DISCOVERED:
        return
    _DISCOVERED.append(True)
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name in ("template", "spec"):
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{info.name}"), "MODEL", None)
        if isinstance(spec, ModelSpec):
            register_model(spec)


def register_model(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Make a model available to runs, the CLI and the dashboard under ``spec.name``."""
    _discover()
    if not isinstance(spec, ModelSpec):
        raise HybridlabError(f"register_model needs a ModelSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY and not replace:
        raise HybridlabError(f"model name {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def model_names() -> list[str]:
    """Registered models, mechanistic ones first (sorted), then the pure network(s)."""
    _discover()
    return sorted(_REGISTRY, key=lambda n: (not _REGISTRY[n].has_parameters, n))


def get_model(name: str) -> ModelSpec:
    _discover()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise HybridlabError(f"unknown model {name!r}; registered: {', '.join(model_names())}") from None


__all__ = ["ModelSpec", "NetworkSpec", "ResponseCurve", "NEURAL_NETWORK", "get_model", "model_names",
           "register_model"]
