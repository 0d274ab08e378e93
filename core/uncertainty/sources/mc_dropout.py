"""``mc_dropout``: one network sampled with its dropout on, ``passes`` times; the run's own
prediction is the centre. For an ensemble, its first member: the cheap alternative on the same sites."""
import numpy as np
import torch

from core.hybrid.network import Dropout
from core.training.tensors import Tensors
from core.uncertainty.registry import SampleSource
from core.uncertainty.sources._single import single


def has_dropout(model) -> bool:
    """Whether a network has a dropout layer with p > 0."""
    return any(isinstance(m, Dropout) and m.p > 0 for m in model.modules())


@torch.inference_mode()
def dropout_samples(model, tensors: Tensors, passes: int, seed: int = 0, chunk: int = 65536) -> np.ndarray:
    """(passes, n, T) predictions of one (non-ensemble) model with its dropout layers on, each
    layer's masks seeded from (seed, layer)."""
    layers = [m for m in model.modules() if isinstance(m, Dropout)]
    model.eval()
    for position, layer in enumerate(layers):
        layer.reseed((seed, position))
        layer.train()
    try:
        passes_out = []
        for _ in range(passes):
            parts = [model(tensors.x[i:i + chunk], tensors.forcing[i:i + chunk]).predictions
                     for i in range(0, len(tensors), chunk)]
            passes_out.append(torch.cat(parts).double().cpu().numpy())
    finally:
        model.eval()
    return np.stack(passes_out)


def _draw(model, tensors, predictions, passes, seed):
    model, predictions = single(model, tensors, predictions)
    return predictions, dropout_samples(model, tensors, passes, seed)


SPEC = SampleSource(name="mc_dropout", description="MC-dropout passes of one network", rank=2,
                    applies=has_dropout, draw=_draw, passes=True)
