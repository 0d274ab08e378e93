"""The neural backbone shared by hybrid models and the pure-network baseline.

Default as in the report: dense 256-128-64-32, sigmoid activations, dropout 0.3 after every
hidden layer but the last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .errors import HybridlabError
from .validation import check_choice, check_number, parse_hidden, settings_from_dict

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}
DEFAULT_HIDDEN = (256, 128, 64, 32)


#: the engine's hard limits on the backbone (a served dashboard sets lower ones)
MAX_HIDDEN_UNITS, MAX_HIDDEN_LAYERS = 16384, 32


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
        if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
            return nn.functional.dropout(x, self.p, True)
        n = x.numel()
        draws = self.bits.random_raw((n + 3) // 4).view(np.uint16)[:n].reshape(tuple(x.shape))
        mask = (draws >= self._threshold).astype(np.float32 if x.dtype == torch.float32 else np.float64)
        mask *= 1.0 / (1.0 - self.p)
        return x * torch.from_numpy(mask)

    def extra_repr(self) -> str:
        return f"p={self.p}"


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
