"""An ensemble of K members of one model, trained as one model: :class:`MemberModel`.

The members share the architecture and the data; their weights are stacked along a first,
member dimension ((K, out, in) per layer, (K, G) global logits), so one mini-batch passes
through all of them in batched matrix products (``torch.baddbmm``), and the mechanistic model,
the loss and the validation run once on the rows of all members together. Everything
model-specific comes from a single member's :meth:`~core.hybrid.model.TrainableModel.assemble`, so
every registered model and the pure network get members without code of their own.

Member k starts from exactly the weights, global values and dropout masks a single run with
its seed would have: stacking K single models is the definition.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.hybrid.model import _UNIT_MARGIN, ModelOutput, TrainableModel
from core.hybrid.network import Dropout


class StackedNetwork(nn.Module):
    """K copies of one backbone (an ``nn.Sequential`` of Linear, activation and Dropout layers)
    with stacked weights. ``forward`` maps shared inputs (n, p) to (K, n, O)."""

    def __init__(self, networks: Sequence[nn.Sequential]):
        super().__init__()
        first = networks[0]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        self.layers: list[tuple[str, object]] = []  # ("linear", index) | ("module", module) | ("dropout", layer)
        for position, layer in enumerate(first):
            if isinstance(layer, nn.Linear):
                self.layers.append(("linear", len(self.weights)))
                self.weights.append(nn.Parameter(torch.stack([n[position].weight.detach() for n in networks])))
                self.biases.append(nn.Parameter(torch.stack([n[position].bias.detach() for n in networks])))
            elif isinstance(layer, Dropout):
                self.layers.append(("dropout", layer))
            else:
                self.layers.append(("module", layer))
        self.generators: list[list[np.random.SFC64]] = [[] for _ in self.layers]
        # a member's own network is rebuilt from this (kept out of the module tree: no weights of its own)
        self.__dict__["_blank"] = copy.deepcopy(first)

    def reseed(self, seeds: Sequence[tuple]) -> None:
        """seeds[k][j]: the seed of member k's j-th dropout layer."""
        dropouts = [i for i, (kind, _) in enumerate(self.layers) if kind == "dropout"]
        self.generators = [[] for _ in self.layers]
        for i, position in enumerate(dropouts):
            self.generators[position] = [np.random.SFC64(member[i]) for member in seeds]

    def keep(self, positions: list[int]) -> None:
        """Keep only the members at these positions (their dropout generators with them)."""
        self.generators = [[g[i] for i in positions] if g else g for g in self.generators]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        members = self.weights[0].shape[0]
        h = x
        for position, (kind, layer) in enumerate(self.layers):
            weight, bias = (self.weights[layer], self.biases[layer]) if kind == "linear" else (None, None)
            if kind == "linear" and members == 1:  # the very operation of nn.Linear: one member as one run
                h = nn.functional.linear(h if h.dim() == 2 else h[0], weight[0], bias[0]).unsqueeze(0)
            elif kind == "linear" and h.dim() == 2:
                # the shared input meets every member's first layer in one wide product (n, K * out)
                wide = nn.functional.linear(h, weight.reshape(-1, weight.shape[2]), bias.reshape(-1))
                h = wide.view(h.shape[0], members, -1).transpose(0, 1)
            elif kind == "linear":
                h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
            elif kind == "module":
                h = layer(h)
            elif self.training and layer.p > 0:
                shape = tuple(h.shape[1:])
                kept = np.stack([layer.kept(shape, bits) for bits in self.generators[position]])
                h = h * layer.scaled(kept, h.dtype).to(h.device)
        return h

    def member(self, k: int) -> nn.Sequential:
        """Member k's backbone as a plain ``nn.Sequential`` (CPU)."""
        network = copy.deepcopy(self._blank)
        linear = [layer for layer in network if isinstance(layer, nn.Linear)]
        with torch.no_grad():
            for layer, weight, bias in zip(linear, self.weights, self.biases):
                layer.weight.copy_(weight[k].cpu())
                layer.bias.copy_(bias[k].cpu())
        return network


@dataclass
class MemberOutput:
    """What :class:`MemberModel` returns for n rows and K members: ``predictions`` (K, n, T),
    ``parameters`` and ``outputs`` name -> (K, n), ``penalty`` (K,) each member's penalty terms
    (None if the model has none)."""

    predictions: torch.Tensor
    parameters: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    penalty: torch.Tensor | None = None


class MemberModel(nn.Module):
    """K members of one model (built with the same settings, each from its own seed) as one.

    Parameters
    ----------
    models : sequence of TrainableModel
        The members at their initial weights; the first one's transforms (set from the training
        split, which all members share) and structure are used.
    """

    def __init__(self, models: Sequence[TrainableModel]):
        super().__init__()
        head = copy.deepcopy(models[0])
        self.dropout_modules = [i for i, m in enumerate(head.modules()) if isinstance(m, Dropout)]
        self.net = StackedNetwork([m.net for m in models]) if getattr(head, "net", None) is not None else None
        logits = getattr(head, "global_logits", None)
        self.global_logits = None
        if logits is not None and logits.numel():
            self.global_logits = nn.Parameter(torch.stack([m.global_logits.detach() for m in models]))
        head.net = None
        if logits is not None:
            del head.global_logits
        self.head = head
        self.count = len(models)

    # what training and evaluation read, as for one model
    @property
    def targets(self) -> list[str]:
        return self.head.targets

    @property
    def tracked(self) -> tuple[str, ...]:
        return self.head.tracked

    @property
    def parameter_set(self):
        return self.head.parameter_set

    def reseed(self, seeds: Sequence[int]) -> None:
        """Dropout masks of member k from seeds[k], as :func:`core.training.loop.train` seeds one run."""
        if self.net is not None:
            self.net.reseed([[(seed, i) for i in self.dropout_modules] for seed in seeds])

    @torch.no_grad()
    def keep(self, positions: list[int]) -> None:
        """Keep only the members at these positions: their weights (sliced in place, so an
        optimiser keeps its hold on the same tensors) and dropout generators."""
        index = torch.tensor(positions, dtype=torch.long)
        for parameter in self.parameters():
            parameter.data = parameter.data.index_select(0, index.to(parameter.device))
            parameter.grad = None
        if self.net is not None:
            self.net.keep(positions)
        self.count = len(positions)

    @torch.no_grad()
    def start_globals_at_random(self, generators: Sequence[torch.Generator]) -> None:
        """Each member's global parameters at a random point of their bounds, from its generator."""
        for k, generator in enumerate(generators):
            units = torch.rand(self.global_logits.shape[1], generator=generator) * (1 - 2 * _UNIT_MARGIN) + _UNIT_MARGIN
            self.global_logits[k].copy_(torch.logit(units).to(self.global_logits))

    @torch.no_grad()
    def start_neural_dispersed(self, generators: Sequence[torch.Generator]) -> None:
        """Each member's output bias of the neural parameters drawn across the unit interval."""
        if self.net is None:
            return
        bias = self.net.biases[-1]
        for k, generator in enumerate(generators):
            units = torch.rand(bias.shape[1], generator=generator) * (1 - 2 * _UNIT_MARGIN) + _UNIT_MARGIN
            bias[k].copy_(torch.logit(units).to(bias))

    def forward(self, x: torch.Tensor, forcing: torch.Tensor) -> MemberOutput:
        """x: (n, p) raw predictors and forcing (n, f), shared by the members."""
        members, n = self.count, x.shape[0]
        output = None
        if self.net is not None:
            output = self.net(self.head.network_input(x, forcing)).float().reshape(members * n, -1)
        out = self.head.assemble(output, self.global_logits, forcing.repeat(members, 1), members)
        per_member = lambda v: v.reshape(members, n) if v.numel() == members * n else v  # noqa: E731
        penalty = None
        for key, value in out.outputs.items():
            if key.startswith("penalty"):
                # per-row terms: each member's mean; a scalar term (a mean over all rows) is
                # 1/K of the members' sum, so K times it carries each member's gradient
                term = value.reshape(members, n).mean(1) if value.numel() == members * n else \
                    value.mean().expand(members)
                penalty = term if penalty is None else penalty + term
        return MemberOutput(out.predictions.reshape(members, n, -1),
                            {k: per_member(v) for k, v in out.parameters.items()},
                            {k: per_member(v) for k, v in out.outputs.items() if not k.startswith("penalty")},
                            penalty)

    def parameter_values(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The members' mean of every mechanistic parameter per sample, (n,) each (none for the
        pure network), as the ensemble's predictions are the members' mean."""
        if not hasattr(self.head, "values_from"):
            return {}
        members, n = self.count, x.shape[0]
        output = None
        if self.net is not None:
            output = self.net(self.head.network_input(x, x.new_zeros(n, 0))).float().reshape(members * n, -1)
        values = self.head.values_from(output, self.global_logits, members * n, members)
        return {name: v.reshape(members, n).mean(0) for name, v in values.items()}

    def observation_penalty(self, parameters: dict, y: torch.Tensor) -> torch.Tensor | None:
        """Each member's constraint term (K,) given observations y (n, T), or None."""
        terms = [self.head.observation_penalty({k: v[m] for k, v in parameters.items()}, y)
                 for m in range(self.count)]
        if all(t is None for t in terms):
            return None
        return torch.stack([t if t is not None else torch.zeros((), device=y.device) for t in terms])

    @torch.no_grad()
    def global_values(self) -> list[dict[str, float]]:
        """Each member's global parameters (in their units)."""
        if self.global_logits is None:
            return [{} for _ in range(self.count)]
        units = torch.sigmoid(self.global_logits).cpu()
        return [{p.name: float(p.from_unit(units[k, j])) for j, p in enumerate(self.head.global_)}
                for k in range(self.count)]

    def member(self, k: int) -> TrainableModel:
        """Member k as a plain single model (CPU, eval mode)."""
        model = copy.deepcopy(self.head).cpu()
        if self.net is not None:
            model.net = self.net.member(k)
        if hasattr(self.head, "global_"):
            logits = self.global_logits[k].detach().cpu().clone() if self.global_logits is not None else \
                torch.zeros(0)
            model.global_logits = nn.Parameter(logits)
        return model.eval()


def ensemble_mean(out: ModelOutput, targets: list[str], kept: list[int] | None = None) -> tuple[ModelOutput, dict]:
    """The members' mean of an ensemble's output (predictions (K, n, T), the rest (K, n)), and
    the across-member sd of every target and parameter (name -> (n,) array; 0 for one member)."""
    kept = list(range(out.predictions.shape[0])) if kept is None else kept
    index = torch.tensor(kept, dtype=torch.long)
    pick = lambda v: v.double().index_select(0, index)  # noqa: E731
    sd = lambda v: (pick(v).std(0) if len(kept) > 1 else torch.zeros_like(v[0], dtype=torch.float64)).numpy()  # noqa: E731
    predictions = pick(out.predictions)
    spread = {target: sd(out.predictions[:, :, j]) for j, target in enumerate(targets)}
    spread.update({name: sd(v) for name, v in out.parameters.items()})
    mean = ModelOutput(predictions.mean(0), {k: pick(v).mean(0) for k, v in out.parameters.items()},
                       {k: pick(v).mean(0) for k, v in out.outputs.items()})
    return mean, spread


def member_output(out: ModelOutput, k: int) -> ModelOutput:
    """Member k's part of an ensemble's output."""
    return ModelOutput(out.predictions[k], {name: v[k] for name, v in out.parameters.items()},
                       {name: v[k] for name, v in out.outputs.items()})
