"""Trainable models: the hybrid, where a network predicts mechanistic parameters and a process
model makes the predictions,

    y_hat = M(forcing, theta_global, theta_fixed, theta_NN(X)),

and the contract every trainable model keeps (:class:`TrainableModel`, returning a
:class:`ModelOutput` from ``forward(x, forcing)``); the pure-network baseline on the same backbone
is in :mod:`core.hybrid.pure_network`.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn

from core.errors import HybridlabError
from core.hybrid.network import NetworkConfig, Standardizer, UnitScale, mlp
from core.hybrid.parameters import ParameterSet
from core.formatting import short_repr

# Keep sigmoid outputs of global parameters away from 0 and 1 so the logit stays finite.
_UNIT_MARGIN = 1e-6


@dataclass
class ModelOutput:
    """What a model returns for n rows.

    Parameters
    ----------
    predictions : torch.Tensor, shape (n, T)
        In target order.
    parameters : dict of str to torch.Tensor
        Every mechanistic parameter's values, each (n,).
    outputs : dict of str to torch.Tensor
        Everything the mechanistic function returned.
    penalty : torch.Tensor, optional
        A scalar added to the loss.
    """

    predictions: torch.Tensor
    parameters: dict[str, torch.Tensor] = field(default_factory=dict)
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    penalty: torch.Tensor | None = None


class TrainableModel(nn.Module):
    """What training, evaluation and the views rely on, for hybrids and the pure network alike.

    Parameters
    ----------
    predictors, forcing, targets : sequence of str
        Variable names, in the column order of x (n, p), forcing (n, f) and the predictions (n, T).

    Attributes
    ----------
    parameter_set : ParameterSet
        The mechanistic parameters with their roles (empty for the pure network).
    tracked : tuple of str
        Outputs whose validation mean the history records.
    """

    predictors: list[str]
    forcing: list[str]
    targets: list[str]
    parameter_set: ParameterSet
    tracked: tuple[str, ...] = ()

    def set_normalization(self, x: torch.Tensor, forcing: torch.Tensor, y: torch.Tensor) -> None:
        """Fit input (and output) transforms on the training split."""
        raise NotImplementedError

    def network_input(self, x: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        """What the backbone ``net`` sees: standardised inputs (n, p')."""
        raise NotImplementedError

    def assemble(self, network_output: torch.Tensor | None, global_logits: torch.Tensor | None,
                 forcing: torch.Tensor, members: int = 1) -> ModelOutput:
        """The model's output from the backbone's output (rows, O) and the global parameters'
        logits ((G,), or (members, G) for the members' rows laid one after another), for forcing
        (rows, f). Ensembles (:mod:`core.hybrid.members`) call it with the rows of all their members."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, forcing: torch.Tensor) -> ModelOutput:
        """x: (n, p) raw predictors; forcing: (n, f) in the order of ``self.forcing``."""
        net = getattr(self, "net", None)
        # float(): under bf16 autocast the backbone's output is bf16; all that follows is float32
        output = net(self.network_input(x, forcing)).float() if net is not None else None
        return self.assemble(output, getattr(self, "global_logits", None), forcing)

    def observation_penalty(self, parameters: dict, y: torch.Tensor) -> torch.Tensor | None:
        """A loss term from the observations y (n, T) and the parameters, or None (the default)."""
        return None

    def start_globals_at_random(self, generator: torch.Generator) -> None:
        """Move every global parameter to a random point within its bounds (uniform on its scale);
        a model without global parameters has nothing to move."""

    def start_neural_dispersed(self, generator: torch.Generator) -> None:
        """Draw the output bias of each neural parameter across the unit interval, so that
        members start apart; a model without neural parameters has nothing to move."""

    def global_values(self) -> dict[str, float]:
        """Current value of every global parameter (in its units); none for the pure network."""
        return {}

    def parameter_values(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every mechanistic parameter per sample, (n,) each; none for the pure network."""
        return {}


def _check_signature(function: Callable, names: Sequence[str]) -> None:
    sig = inspect.signature(function)
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    missing = [n for n in names if n not in sig.parameters]
    if missing:
        raise HybridlabError(
            f"mechanistic function {short_repr(function.__name__)} has no argument for {', '.join(map(repr, missing))}")


def _accepts(function: Callable, name: str) -> bool:
    parameters = inspect.signature(function).parameters
    return name in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class HybridModel(TrainableModel):
    """A neural network feeding the parameters of a mechanistic function.

    Parameters
    ----------
    predictors : sequence of str
        The covariate columns X, shape (n, p).
    forcing : sequence of str
        The forcing columns F, shape (n, f), passed to the function.
    targets : sequence of str
        The function outputs compared to data, in the order of the predictions (n, T).
    function : callable
        ``f(**forcing, **parameters) -> dict`` of tensors (targets, diagnostics and optional
        ``penalty*`` terms).
    parameters : ParameterSet
        Its roles decide what the network predicts (neural), what is a learned scalar (global)
        and what is a constant (fixed). It is copied: later role changes need a new model.
    network : NetworkConfig, optional
        The backbone (default: the report's).
    options : dict, optional
        Keyword options of the function.
    tracked : sequence of str
        Outputs whose validation mean the history records.
    constraint : callable, optional
        A model's penalty on its outputs (e.g. MOC within q_max).
    """

    def __init__(self, predictors: Sequence[str], forcing: Sequence[str], targets: Sequence[str],
                 function: Callable, parameters: ParameterSet, network: NetworkConfig | None = None,
                 options: dict | None = None, tracked: Sequence[str] = (), constraint: Callable | None = None):
        super().__init__()
        self.predictors, self.forcing, self.targets = list(predictors), list(forcing), list(targets)
        self.function = function
        self.constraint = constraint
        self.options = dict(options or {})
        self.tracked = tuple(tracked)
        self.parameter_set = parameters.copy()
        self.network_config = network or NetworkConfig()
        _check_signature(function, self.forcing + self.parameter_set.names)
        # options go to the function that takes them: the mechanistic function or the constraint
        self.function_options = {k: v for k, v in self.options.items() if _accepts(function, k)}
        self.constraint_options = {k: v for k, v in self.options.items() if constraint and _accepts(constraint, k)}
        unused = [k for k in self.options if k not in self.function_options and k not in self.constraint_options]
        if unused:
            raise HybridlabError(f"mechanistic function {short_repr(function.__name__)} has no argument for "
                                 f"{', '.join(map(repr, unused))}")

        self.neural = [p for p in self.parameter_set if p.role == "neural"]
        self.global_ = [p for p in self.parameter_set if p.role == "global"]
        self.fixed = [p for p in self.parameter_set if p.role == "fixed"]
        if self.neural and not self.predictors:
            raise HybridlabError("neural parameters need at least one predictor column")

        self.normalize = Standardizer(len(self.predictors))
        self.net = mlp(len(self.predictors), len(self.neural), self.network_config) if self.neural else None
        init = [min(max(p.to_unit(p.default), _UNIT_MARGIN), 1 - _UNIT_MARGIN) for p in self.global_]
        self.global_logits = nn.Parameter(torch.logit(torch.tensor(init, dtype=torch.float32)))
        self.register_buffer("fixed_values", torch.tensor([p.fixed_value for p in self.fixed], dtype=torch.float32))
        self.neural_scale, self.global_scale = UnitScale(self.neural), UnitScale(self.global_)

    def set_normalization(self, x: torch.Tensor, forcing: torch.Tensor, y: torch.Tensor) -> None:
        """Fit the input z-transform on the training predictors x (n, p); forcing and y are unused."""
        self.normalize.fit(x)

    def network_input(self, x: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        return self.normalize(x)

    def parameter_values(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every mechanistic parameter per sample, (n,) each, inside its bounds."""
        output = self.net(self.normalize(x)).float() if self.net is not None else None
        return self.values_from(output, self.global_logits, x.shape[0])

    def values_from(self, network_output, global_logits, n: int, members: int = 1) -> dict[str, torch.Tensor]:
        """Every parameter on n rows from the backbone's output (n, P) and the global logits ((G,),
        or (members, G) for the members' rows laid one after another)."""
        values: dict[str, torch.Tensor] = {}
        if network_output is not None:
            v = self.neural_scale(torch.sigmoid(network_output))
            for j, p in enumerate(self.neural):
                values[p.name] = v[:, j]
        if self.global_:
            v = self.global_scale(torch.sigmoid(global_logits))
            for j, p in enumerate(self.global_):
                values[p.name] = v[j].expand(n) if v.dim() == 1 else \
                    v[:, j:j + 1].expand(members, n // members).reshape(n)
        for j, p in enumerate(self.fixed):
            values[p.name] = self.fixed_values[j].expand(n)
        return {name: values[name] for name in self.parameter_set.names}

    def assemble(self, network_output, global_logits, forcing: torch.Tensor, members: int = 1) -> ModelOutput:
        n = forcing.shape[0]
        params = self.values_from(network_output, global_logits, n, members)
        kwargs = {name: forcing[:, j] for j, name in enumerate(self.forcing)}
        kwargs.update(params)
        outputs = self.function(**kwargs, **self.function_options)
        if not isinstance(outputs, dict):
            raise HybridlabError(f"mechanistic function {short_repr(self.function.__name__)} must return a dict of tensors")
        missing = [t for t in self.targets if t not in outputs]
        if missing:
            raise HybridlabError(
                f"mechanistic function {short_repr(self.function.__name__)} returns no output for target(s) "
                f"{', '.join(map(repr, missing))}")
        preds = torch.stack([outputs[t].expand(n) for t in self.targets], dim=1)
        penalty = None
        for key, val in outputs.items():
            if key.startswith("penalty"):
                term = val.mean()
                penalty = term if penalty is None else penalty + term
        return ModelOutput(preds, params, outputs, penalty)

    def observation_penalty(self, parameters: dict, y: torch.Tensor) -> torch.Tensor | None:
        """The model's constraint (if it declares one) on the parameters given the observations
        y (n, T, NaN = missing), as a scalar added to the training loss."""
        if self.constraint is None:
            return None
        observed = {target: y[:, j] for j, target in enumerate(self.targets)}
        return self.constraint(parameters, observed, **self.constraint_options)

    @torch.no_grad()
    def start_globals_at_random(self, generator: torch.Generator) -> None:
        units = torch.rand(len(self.global_), generator=generator) * (1 - 2 * _UNIT_MARGIN) + _UNIT_MARGIN
        self.global_logits.copy_(torch.logit(units).to(self.global_logits))

    @torch.no_grad()
    def start_neural_dispersed(self, generator: torch.Generator) -> None:
        if self.net is None:
            return
        last = [layer for layer in self.net if isinstance(layer, nn.Linear)][-1]
        units = torch.rand(last.bias.shape[0], generator=generator) * (1 - 2 * _UNIT_MARGIN) + _UNIT_MARGIN
        last.bias.copy_(torch.logit(units).to(last.bias))

    @torch.no_grad()
    def global_values(self) -> dict[str, float]:
        """Current value of every global parameter (in its units)."""
        s = torch.sigmoid(self.global_logits)
        return {p.name: float(p.from_unit(s[j])) for j, p in enumerate(self.global_)}
