import numpy as np
import pytest
import torch

from core.errors import HybridlabError
from core.hybrid.network import Dropout, NetworkConfig, mlp


def test_dropout_zeroes_the_share_p_and_keeps_the_expected_value():
    d = Dropout(0.3, seed=1).train()
    x = torch.ones(400, 500)
    y = d(x)
    dropped = float((y == 0).float().mean())
    assert dropped == pytest.approx(0.3, abs=0.005)
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / 0.7))
    assert float(y.mean()) == pytest.approx(1.0, abs=0.01)


def test_dropout_gradient_is_the_mask_and_eval_mode_is_the_identity():
    d = Dropout(0.5, seed=2)
    x = torch.randn(64, 32, requires_grad=True)
    y = d(x)
    y.sum().backward()
    assert torch.equal(x.grad, (y != 0).float() * 2.0)
    d.eval()
    assert d(x) is x


def test_dropout_masks_repeat_after_reseed_and_differ_between_batches():
    d = Dropout(0.3)
    x = torch.ones(128, 64)
    d.reseed((7, 3))
    first, second = d(x), d(x)
    d.reseed((7, 3))
    assert torch.equal(d(x), first)
    assert not torch.equal(first, second)


def test_dropout_keeps_float64():
    y = Dropout(0.3, seed=0)(torch.ones(10, 10, dtype=torch.float64))
    assert y.dtype == torch.float64


def test_dropout_rate_outside_zero_one_is_refused():
    with pytest.raises(HybridlabError, match="dropout must be in"):
        Dropout(1.0)


def test_mlp_puts_dropout_after_all_but_the_last_hidden_layer():
    net = mlp(10, 3, NetworkConfig(hidden=(8, 6, 4), dropout=0.2))
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid", "Dropout", "Linear", "Sigmoid", "Linear"]
    assert np.allclose([m.p for m in net if isinstance(m, Dropout)], 0.2)
