import math

import pytest
import torch

from core.training.losses import MultiTaskLoss
from core.metrics import kge


def test_kge_loss_equals_one_minus_kge_per_target():
    g = torch.Generator().manual_seed(0)
    obs = torch.rand(50, 2, generator=g) * 10 + 1
    pred = obs * 0.9 + torch.rand(50, 2, generator=g)
    total, per_target, valid = MultiTaskLoss(2)(obs, pred)
    expect = [1 - kge(obs[:, j], pred[:, j])["kge"] for j in range(2)]
    assert per_target.tolist() == pytest.approx(expect, rel=1e-5)
    assert float(total) == pytest.approx(sum(expect) / 2, rel=1e-5)
    assert valid.all()


def test_target_with_fewer_than_two_observations_is_left_out_without_nan_gradient():
    obs = torch.tensor([[1.0, float("nan")], [2.0, 5.0], [4.0, float("nan")]])
    pred = torch.tensor([[1.5, 3.0], [2.5, 3.0], [3.5, 3.0]], requires_grad=True)
    loss_fn = MultiTaskLoss(2)
    total, per_target, valid = loss_fn(obs, pred)
    assert valid.tolist() == [True, False]
    assert float(total.detach()) == pytest.approx(float(per_target[0].detach()))
    total.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[:, 1].abs().sum() == 0


@pytest.mark.parametrize("kind", ["kge", "nse", "mse"])
def test_loss_kinds_are_zero_for_perfect_predictions(kind):
    obs = torch.linspace(1, 10, 20).reshape(10, 2)
    total, _, _ = MultiTaskLoss(2, kind)(obs, obs.clone())
    assert float(total) == pytest.approx(0.0, abs=1e-5)


def test_uncertainty_weighting_learns_log_variances():
    loss_fn = MultiTaskLoss(2, "kge", "uncertainty")
    assert loss_fn.log_vars.shape == (2,)
    obs = torch.rand(30, 2) + 1
    total, _, _ = loss_fn(obs, obs * 0.5)
    total.backward()
    assert loss_fn.log_vars.grad is not None and math.isfinite(float(loss_fn.log_vars.grad.abs().sum()))


def test_unknown_loss_is_named():
    with pytest.raises(ValueError, match="unknown loss 'mae'"):
        MultiTaskLoss(1, "mae")
