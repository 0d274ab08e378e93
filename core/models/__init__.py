"""Registry of mechanistic models.

Each module in this package that defines ``MODEL = ModelSpec(...)`` is registered under
``MODEL.name`` when the registry is first used: adding a model is adding one file (see
``template.py``). The pure neural network is available under the name ``nn``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

from ..errors import HybridlabError
from ..parameters import ParameterSet

NEURAL_NETWORK = "nn"


@dataclass(frozen=True)
class ModelSpec:
    """A mechanistic model: its function, a factory for its parameter set, and its variables.

    function: ``f(**forcing, **parameters) -> dict`` of tensors. parameters: returns a fresh
    :class:`ParameterSet` (with presets). forcing / targets: variable names the function takes
    and returns. defaults: recommended training settings. nonnegative: variables whose data must be >= 0 (contents, fluxes).
    diagnostics: optional ``f(outputs, parameters, observed) -> dict`` of numbers for metrics.json,
    where outputs and parameters are name -> numpy arrays and observed is target -> numpy array.
    """

    name: str
    description: str
    function: Callable
    parameters: Callable[[], ParameterSet]
    forcing: tuple[str, ...]
    targets: tuple[str, ...]
    default_data: str
    default_roles: str = "default"
    nonnegative: frozenset[str] = field(default_factory=frozenset)
    diagnostics: Callable | None = None
    #: forcing the function can do without (it has a default for them); used when the data have it
    optional_forcing: tuple[str, ...] = ()
    #: outputs whose validation mean is recorded in the training history each epoch (e.g. feasible)
    tracked: tuple[str, ...] = ()
    #: extra keyword options of the function with their defaults (not parameters; e.g. penalty weights)
    options: dict = field(default_factory=dict)
    #: optional ``f(parameters) -> dict`` of quantities derived from a sample's parameters alone
    #: (e.g. AWC from retention parameters); used by ``hybridlab predict``
    derived: Callable | None = None
    #: recommended settings for this model, keys of TrainConfig / NetworkConfig (e.g. batch_size,
    #: hidden); the CLI and the dashboard start from them, explicit options win
    defaults: dict = field(default_factory=dict)


_REGISTRY: dict[str, ModelSpec] = {}


def _discover() -> None:
    if _REGISTRY:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "template":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "MODEL", None)
        if isinstance(spec, ModelSpec):
            if spec.name in _REGISTRY or spec.name == NEURAL_NETWORK:
                raise HybridlabError(f"model name {spec.name!r} is registered twice")
            _REGISTRY[spec.name] = spec


def model_names() -> list[str]:
    """Registered mechanistic models, plus ``nn`` for the pure neural network."""
    _discover()
    return sorted(_REGISTRY) + [NEURAL_NETWORK]


def get_model(name: str) -> ModelSpec:
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HybridlabError(f"unknown model {name!r}; available: {', '.join(model_names())}") from None


__all__ = ["ModelSpec", "NEURAL_NETWORK", "get_model", "model_names"]
