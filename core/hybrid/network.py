"""The neural backbone shared by hybrid models and the pure-network baseline.

Default as in the report: dense 256-128-64-32, sigmoid activations, dropout 0.3 after every
hidden layer but the last.
"""
from __future__ import annotations

from dataclasses import dataclass

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn

from core.errors import HybridlabError
from core.validation import check_choice, check_number, parse_hidden, settings_from_dict

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}
DEFAULT_HIDDEN = (256, 128, 64, 32)


#: the engine's hard limits on the backbone (a served dashboard sets lower ones)
MAX_HIDDEN_UNITS, MAX_HIDDEN_LAYERS = 16384, 32
#: the most weights one run may build, all members together (0.4 GB in float32; the optimiser keeps
#: about two more copies)
MAX_WEIGHTS = 100_000_000


@dataclass
class NetworkConfig:
    """Backbone settings.

    Parameters
    ----------
    hidden : tuple of int
        Hidden layer widths (default the report's 256, 128, 64, 32).
    activation : str
        An activation name (:data:`ACTIVATIONS`).
    dropout : float
        Dropout rate in [0, 1).
    """

    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = "sigmoid"
    dropout: float = 0.3

    def __post_init__(self):
        self.hidden = parse_hidden(self.hidden)
        if any(h < 1 for h in self.hidden):
            raise HybridlabError(f"hidden layer sizes must be positive integers, got {list(self.hidden)}")
        if any(h > MAX_HIDDEN_UNITS for h in self.hidden) or len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise HybridlabError(f"hidden layers: at most {MAX_HIDDEN_LAYERS} layers of at most {MAX_HIDDEN_UNITS} "
                                 f"units each, got {list(self.hidden)}")
        check_choice(self.activation, ACTIVATIONS, "activation")
        self.dropout = check_number(self.dropout, "dropout", 0.0, 1.0, include_high=False)

    def to_dict(self) -> dict:
        return {"hidden": list(self.hidden), "activation": self.activation, "dropout": self.dropout}

    @classmethod
    def from_dict(cls, values: dict | None) -> "NetworkConfig":
        return settings_from_dict(cls, values, "network")


class Dropout(nn.Module):
    """Inverted dropout (zero each element with probability ``p``, scale the rest by 1/(1-p)).

    Same contract as ``nn.Dropout``, but on the CPU the masks come from raw 64-bit outputs of
    NumPy's SFC64 generator, cut into four 16-bit draws each: ``torch.bernoulli_`` draws element by
    element from a Mersenne twister and took 35 % of a training epoch of the report's network; these
    masks are about four times cheaper, forward and backward. An element is dropped when its draw is
    below ``round(p * 65536)``, so the drop probability is ``p`` rounded to a multiple of 1/65536
    (0.3 -> 0.300003). Each module has its own generator; :meth:`reseed` makes the masks
    reproducible (``train`` does it from the run's seed). On CUDA the built-in dropout is used.
    """

    def __init__(self, p: float = 0.5, seed=None):
        super().__init__()
        self.p = check_number(p, "dropout", 0.0, 1.0, include_high=False)
        self._threshold = np.uint16(min(round(self.p * 65536), 65535))
        self.reseed(seed)

    def reseed(self, seed) -> None:
        """seed: an int, a tuple of ints or None (fresh entropy)."""
        self.bits = np.random.SFC64(seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.device.type != "cpu" or not x.is_floating_point():
            return nn.functional.dropout(x, self.p, True)
        return x * self.mask(tuple(x.shape), self.bits, x.dtype)

    def kept(self, shape: tuple, bits: np.random.SFC64) -> np.ndarray:
        """Which elements of ``shape`` are kept (bool), drawn from generator ``bits`` (members
        of an ensemble each draw theirs from their own, as the same layer of a single run would)."""
        n = int(np.prod(shape))
        return bits.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(shape) >= self._threshold

    def scaled(self, kept: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        """The keep-mask as 0 or 1/(1-p) (torch converts and scales faster than NumPy)."""
        return torch.from_numpy(kept.view(np.uint8)).to(dtype).mul_(1.0 / (1.0 - self.p))

    def mask(self, shape: tuple, bits: np.random.SFC64, dtype: torch.dtype) -> torch.Tensor:
        """A scaled keep-mask of ``shape`` from generator ``bits``."""
        return self.scaled(self.kept(shape, bits), dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def check_weights(n_in: int, n_out: int, cfg: NetworkConfig, members: int = 1) -> int:
    """The number of weights and biases of ``members`` backbones n_in -> hidden -> n_out; refused
    above :data:`MAX_WEIGHTS` before anything is allocated."""
    sizes = [n_in, *cfg.hidden, n_out]
    weights = members * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    if weights > MAX_WEIGHTS:
        raise HybridlabError(f"the network would hold {weights:,} weights ({members} member(s) of hidden layers "
                             f"{list(cfg.hidden)[:8]} on {n_in} inputs), more than {MAX_WEIGHTS:,}; use smaller "
                             f"hidden layers or fewer members")
    return weights


def mlp(n_in: int, n_out: int, cfg: NetworkConfig) -> nn.Sequential:
    """Dense network n_in -> hidden... -> n_out (linear output), dropout after all but the last hidden layer."""
    layers: list[nn.Module] = []
    width = n_in
    for i, h in enumerate(cfg.hidden):
        layers += [nn.Linear(width, h), ACTIVATIONS[cfg.activation]()]
        if cfg.dropout > 0 and i < len(cfg.hidden) - 1:
            layers.append(Dropout(cfg.dropout))
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class Standardizer(nn.Module):
    """z-transform of the columns with statistics of the training split, kept in the state dict."""

    def __init__(self, n: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n))
        self.register_buffer("std", torch.ones(n))

    @torch.no_grad()
    def fit(self, x: torch.Tensor) -> None:
        """x: (n_samples, n) with NaN allowed; columns without spread keep std 1."""
        mean = torch.nanmean(x, 0)
        var = torch.nanmean((x - mean) ** 2, 0)
        std = torch.sqrt(var)
        std = torch.where(torch.isfinite(std) & (std > 0), std, torch.ones_like(std))
        self.mean.copy_(torch.nan_to_num(mean, nan=0.0))
        self.std.copy_(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place on the difference: one temporary instead of two (the statistics never need gradients)
        z = x - self.mean
        return z.div_(self.std) if not z.requires_grad else z / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.std + self.mean


class UnitScale(nn.Module):
    """Maps sigmoid outputs s in [0, 1] of several parameters at once into their bounds, on each
    parameter's scale (linear or log): one set of tensor operations for all columns instead of a
    few per parameter, which matters for the many small tensors of a mini-batch."""

    def __init__(self, params: Sequence):
        super().__init__()
        log = [p.scale == "log" for p in params]
        lo = [math.log(p.lower) if g else p.lower for p, g in zip(params, log)]
        hi = [math.log(p.upper) if g else p.upper for p, g in zip(params, log)]
        f32 = lambda v: torch.tensor(v, dtype=torch.float32)  # noqa: E731
        # not persistent: derived from the parameter set, which is saved with the run
        self.register_buffer("offset", f32(lo), persistent=False)
        self.register_buffer("width", f32([h - l for h, l in zip(hi, lo)]), persistent=False)
        self.register_buffer("lower", f32([p.lower for p in params]), persistent=False)
        self.register_buffer("upper", f32([p.upper for p in params]), persistent=False)
        self.register_buffer("is_log", torch.tensor(log, dtype=torch.bool), persistent=False)
        self.all_log, self.any_log = all(log), any(log)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        """s: (..., k) -> values (..., k) in [lower, upper]."""
        u = torch.addcmul(self.offset, s, self.width)
        if self.all_log:
            u = torch.exp(u)
        elif self.any_log:
            # exp only where the scale is log: the linear columns may be large, and exp(inf)
            # would turn their zero gradient into NaN
            u = torch.where(self.is_log, torch.exp(torch.where(self.is_log, u, torch.zeros_like(u))), u)
        # float32 rounding can step just outside a bound (exp(log 0.1) < 0.1)
        return torch.clamp(u, self.lower, self.upper)
