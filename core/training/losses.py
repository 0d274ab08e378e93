"""Multi-task losses over targets with missing observations.

Per target: 1 - KGE (default, the report's choice), 1 - NSE or MSE, computed on the pairs where
the observation is present. A target with fewer than 2 observations in a batch is left out of
that batch's loss. Targets are combined by their mean, or by learned uncertainty weights
(Kendall, Gal & Cipolla 2018): sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t with s_t = log sigma_t^2.
"""
from __future__ import annotations

import torch
from torch import nn

from core.metrics import kge_parts, masked_moments, nse_from
from core.validation import check_choice

LOSS_KINDS = ("kge", "nse", "mse")
WEIGHTINGS = ("mean", "uncertainty")


class MultiTaskLoss(nn.Module):
    """Loss over T targets. ``forward(obs, pred)`` with (n, T) tensors, NaN = missing observation.

    Returns (total, per_target, valid): total is a scalar, per_target the (T,) losses (0 where
    not valid), valid the (T,) mask of targets with at least 2 observations.
    """

    def __init__(self, n_targets: int, kind: str = "kge", weighting: str = "mean"):
        super().__init__()
        self.kind = check_choice(kind, LOSS_KINDS, "loss")
        self.weighting = check_choice(weighting, WEIGHTINGS, "loss weighting")
        self.log_vars = nn.Parameter(torch.zeros(n_targets)) if weighting == "uncertainty" else None

    def per_target(self, obs: torch.Tensor, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mom = masked_moments(obs, pred)
        valid = mom["n"] >= 2
        one = torch.ones((), dtype=pred.dtype, device=pred.device)
        # Targets without data get harmless moments so that no NaN reaches the gradient.
        mom["mean_obs"] = torch.where(valid, mom["mean_obs"], one)
        mom["var_obs"] = torch.where(valid, mom["var_obs"], one)
        if self.kind == "kge":
            loss = 1.0 - kge_parts(mom)["kge"]
        elif self.kind == "nse":
            loss = 1.0 - nse_from(mom)
        else:
            loss = mom["sse"] / mom["n"].clamp(min=1.0)
        return torch.where(valid, loss, torch.zeros_like(loss)), valid

    def combine(self, per_target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        v = valid.to(per_target.dtype)
        if self.log_vars is not None:
            s = self.log_vars
            per_target = 0.5 * torch.exp(-s) * per_target + 0.5 * s
        return (per_target * v).sum() / v.sum().clamp(min=1.0)

    def forward(self, obs: torch.Tensor, pred: torch.Tensor):
        per_target, valid = self.per_target(obs, pred)
        return self.combine(per_target, valid), per_target, valid
