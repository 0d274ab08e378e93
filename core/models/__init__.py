"""Registry of models.

Each module in this package that defines ``MODEL = ModelSpec(...)`` is registered under
``MODEL.name`` when the registry is first used: adding a model is adding one file (see
``template.py``). :func:`register_model` adds one from elsewhere (a notebook, a test). The pure
neural network is registered as ``nn``. Runs name their model; nothing else resolves code.
"""
from __future__ import annotations

import importlib
import pkgutil

from core.errors import HybridlabError
from core.hybrid.network import NetworkConfig
from core.hybrid.parameters import ParameterSet
from core.models.spec import ModelSpec, NetworkSpec, ResponseCurve
from core.formatting import short_repr

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
    """Make a model available to runs, the CLI and the dashboard under ``spec.name``.

    Parameters
    ----------
    spec : ModelSpec
        The model's description (function, parameters, presets, what it offers).
    replace : bool
        Replace a model registered under the same name (else that is an error).

    Returns
    -------
    ModelSpec
        ``spec``.
    """
    _discover()
    if not isinstance(spec, ModelSpec):
        raise HybridlabError(f"register_model needs a ModelSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY and not replace:
        raise HybridlabError(f"model name {short_repr(spec.name)} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def model_names() -> list[str]:
    """Registered models, mechanistic ones first (sorted), then the pure network(s).

    Returns
    -------
    list of str
    """
    _discover()
    return sorted(_REGISTRY, key=lambda n: (not _REGISTRY[n].has_parameters, n))


def get_model(name: str) -> ModelSpec:
    """The registered model called ``name``.

    Parameters
    ----------
    name : str
        e.g. ``soc``, ``swrc``, ``respiration``, ``nn``.

    Returns
    -------
    ModelSpec
        Raises HybridlabError naming the registered models when there is none of that name.
    """
    _discover()
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise HybridlabError(f"unknown model {short_repr(name)}; registered: {', '.join(model_names())}") from None



def build_model(model_config: dict):
    """An untrained model from the ``model`` block of a run's config.json, resolved by name through
    the registry (no code is named in a run folder).

    Parameters
    ----------
    model_config : dict
        ``name``, ``predictors``, ``forcing``, ``targets``, ``parameters`` (a ParameterSet's dict),
        ``network`` (a NetworkConfig's dict) and ``options``.

    Returns
    -------
    TrainableModel
        A hybrid or a pure network with freshly initialised weights.
    """
    spec = get_model(model_config["name"])
    return spec.build(predictors=model_config["predictors"], forcing=model_config["forcing"],
                      targets=model_config["targets"], parameters=ParameterSet.from_dict(model_config["parameters"]),
                      network=NetworkConfig.from_dict(model_config["network"]),
                      options=model_config.get("options") or {})


__all__ = ["ModelSpec", "build_model", "NetworkSpec", "ResponseCurve", "NEURAL_NETWORK", "get_model", "model_names",
           "register_model"]
