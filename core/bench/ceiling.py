"""How fast K members can train at best on this CPU: the ceiling of ``ensemble_speedup``.

Stacking members shares what surrounds the backbone (slicing, the mechanistic model, the loss,
validation and metrics, Python) but not the backbone's own work, whose matrix products and
element-wise passes grow with K. So the speed-up of K members over K runs is bounded by
Amdahl's law from two measured numbers:

- ``backbone_share``: the fraction of a single run's epoch spent in the backbone alone
  (forward, backward and optimiser step on every training batch, forward on the validation
  rows), timed on inputs of the same shapes;
- ``stacked_backbone_speedup``: K separate backbones' epoch time over the K members' stacked
  backbone (:class:`core.hybrid.members.StackedNetwork`) on the same rows.

If everything outside the backbone were shared perfectly, K members would take
``(1 - share) + share · K / stacked`` single-run epochs instead of K, which gives
:func:`speedup_ceiling`. It is an estimate (the backbone is timed alone, on random inputs): in
three full benchmarks the measured speed-up per epoch lay 0.15 below to 0.28 above it. A measured
speed-up near the ceiling says the stacking already shares what it can; a ceiling far below a goal
says the goal needs a faster backbone, not more sharing.
"""
from __future__ import annotations

import statistics
import time

import torch

from core.hybrid.members import StackedNetwork
from core.hybrid.network import NetworkConfig, mlp
from core.training.loop import precision_context

#: the backbone epoch is repeated until this many seconds have passed (at least 3 times)
MIN_SECONDS = 0.3


def speedup_ceiling(backbone_share: float, stacked_backbone_speedup: float, members: int) -> float:
    """Amdahl's bound on K members' speed-up over K runs: everything but the backbone is shared
    (paid once instead of K times), and the backbone gains only ``stacked_backbone_speedup``."""
    if not 0.0 <= backbone_share <= 1.0:
        raise ValueError(f"backbone_share must be within [0, 1], got {backbone_share}")
    return members / ((1.0 - backbone_share) + backbone_share * members / stacked_backbone_speedup)


def _epoch_runner(network: torch.nn.Module, inputs: int, n_train: int, n_val: int, batch_size: int,
                  precision: str):
    """A function that runs one backbone epoch on random standardised inputs (n, inputs)."""
    generator = torch.Generator().manual_seed(0)
    train_x = torch.randn(n_train, inputs, generator=generator)
    val_x = torch.randn(n_val, inputs, generator=generator)
    optimizer = torch.optim.RMSprop(network.parameters(), lr=1e-3, foreach=True)
    device = torch.device("cpu")

    def epoch() -> None:
        network.train()
        for start in range(0, n_train, batch_size):
            with precision_context(precision, device):
                out = network(train_x[start:start + batch_size])
            optimizer.zero_grad(set_to_none=True)
            out.float().square().mean().backward()
            optimizer.step()
        network.eval()
        with torch.inference_mode(), precision_context(precision, device):
            network(val_x)

    return epoch


def _seconds(epoch, min_seconds: float, repeats: int) -> float:
    """Median seconds of ``epoch()`` after one warm-up, at least ``repeats`` times and ``min_seconds``."""
    epoch()
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def backbone_epochs(inputs: int, outputs: int, n_train: int, n_val: int, members: int,
                    batch_size: int = 2048, precision: str = "float32",
                    network: NetworkConfig | None = None, min_seconds: float = MIN_SECONDS,
                    repeats: int = 3) -> dict:
    """Seconds of one backbone epoch: a single network, and ``members`` stacked ones (each the
    median of at least ``repeats`` repetitions lasting ``min_seconds`` together).

    Returns ``{"single_seconds", "stacked_seconds", "stacked_backbone_speedup"}``, the last being
    members · single / stacked."""
    config = network or NetworkConfig()
    torch.manual_seed(0)
    backbones = [mlp(inputs, outputs, config) for _ in range(members)]
    single = _seconds(_epoch_runner(backbones[0], inputs, n_train, n_val, batch_size, precision), min_seconds, repeats)
    stacked_network = StackedNetwork(backbones)
    stacked_network.reseed([[(k, j) for j in range(len(backbones[0]))] for k in range(members)])
    stacked = _seconds(_epoch_runner(stacked_network, inputs, n_train, n_val, batch_size, precision), min_seconds,
                       repeats)
    return {"single_seconds": single, "stacked_seconds": stacked,
            "stacked_backbone_speedup": members * single / stacked}
