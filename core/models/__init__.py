"""Registry of models.

Each module in this package that defines ``MODEL = ModelSpec(...)`` is registered under
``MODEL.name`` when the registry is first used: adding a model is adding one file (see
``template.py``). :func:`register_model` adds one from elsewhere (a notebook, a test). The pure
neural network is registered as ``nn``. Runs name their model; nothing else resolves code.
"""
from __future__ import annotations

from core.hybrid.network import NetworkConfig
from core.hybrid.parameters import ParameterSet
from core.models.spec import ModelSpec, NetworkSpec, ResponseCurve
from core.registry import Registry

NEURAL_NETWORK = "nn"

#: every model, mechanistic ones first (by name), then the pure network(s)
MODELS: Registry[ModelSpec] = Registry("model", ModelSpec, package=__name__, attribute="MODEL",
                                      skip=("template", "spec"), order=lambda s: (not s.has_parameters, s.name))


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
    return MODELS.register(spec, replace)


def model_names() -> list[str]:
    """Registered models, mechanistic ones first (sorted), then the pure network(s).

    Returns
    -------
    list of str
    """
    return MODELS.names()


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
    return MODELS.get(name)


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


__all__ = ["MODELS", "ModelSpec", "build_model", "NetworkSpec", "ResponseCurve", "NEURAL_NETWORK", "get_model", "model_names",
           "register_model"]
