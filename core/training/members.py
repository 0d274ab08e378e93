"""What an epoch of K stacked members (:class:`core.hybrid.members.MemberModel`) needs beyond one
model's parts (:mod:`core.training.epoch`): the loss of each member (:class:`MemberLoss`), the pass over
the batches (:func:`member_epoch`) and the validation (:func:`validate_members`) of every member
at once, the members' weights as early stopping reads them (:class:`MemberSlice`), a stopped
member sliced out of the stack with its optimiser state (:func:`keep_members`) and every member
put back at its best epoch at the end (:func:`restore_members`). The loop is
:func:`core.training.loop.train_members`; a single run is a stack of one.

Each member's gradient is the one its single run would get on the same batch: the loss is the
sum of the members' own multi-task losses.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch
from torch import nn

from core.training.epoch import EarlyStopping, Validation, epoch_sums
from core.training.losses import MultiTaskLoss
from core.hybrid.members import MemberModel
from core.metrics import kge_parts, masked_moments
from core.training.tensors import Tensors


class MemberLoss(nn.Module):
    """The multi-task loss of each member: ``forward(obs (n, T), pred (K, n, T))`` -> per-member
    totals (K,), per-target losses (K, T) and the valid mask (K, T). The members' columns are
    laid side by side, so the moments of all of them take one pass."""

    def __init__(self, members: int, n_targets: int, kind: str, weighting: str):
        super().__init__()
        self.single = MultiTaskLoss(n_targets, kind, "mean")
        self.log_vars = nn.Parameter(torch.zeros(members, n_targets)) if weighting == "uncertainty" else None

    def per_target(self, obs: torch.Tensor, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        members, n, targets = pred.shape
        side_by_side = pred.permute(1, 0, 2).reshape(n, members * targets)
        loss, valid = self.single.per_target(obs.repeat(1, members), side_by_side)
        return loss.reshape(members, targets), valid.reshape(members, targets)

    def forward(self, obs: torch.Tensor, pred: torch.Tensor):
        per_target, valid = self.per_target(obs, pred)
        weighted = per_target
        if self.log_vars is not None:
            weighted = 0.5 * torch.exp(-self.log_vars) * per_target + 0.5 * self.log_vars
        v = valid.to(per_target.dtype)
        return (weighted * v).sum(1) / v.sum(1).clamp(min=1.0), per_target, valid


class MemberSlice:
    """Member ``position``'s weights, as :class:`EarlyStopping` reads a model's."""

    def __init__(self, model: MemberModel, position: int):
        self.model, self.position = model, position

    def state_dict(self) -> dict:
        return {name: p[self.position] for name, p in self.model.named_parameters()}


@dataclass
class MemberEpoch:
    """One epoch's training losses of every active member."""

    totals: torch.Tensor  # (K,) mean total loss per member
    per_target: torch.Tensor  # (K, T)
    observed: torch.Tensor  # (K, T)
    batches: int


def member_epoch(model: MemberModel, shuffled: Tensors, loss_fn: MemberLoss, optimizer, batch_size: int,
                 stop_event: threading.Event | None, precision: str) -> MemberEpoch:
    """One pass over the shuffled training rows for every active member."""
    totals, sum_target, n_target, batches = epoch_sums(model, shuffled, loss_fn, optimizer, batch_size, stop_event,
                                                       precision)
    shape = (model.count, shuffled.y.shape[1])
    sum_target, n_target = sum_target.expand(shape), n_target.expand(shape)
    return MemberEpoch(totals.expand(model.count) / max(batches, 1), sum_target / n_target.clamp(min=1), n_target > 0,
                  batches)


@torch.inference_mode()
def validate_members(model: MemberModel, val_data: Tensors, loss_fn: MemberLoss, chunk: int = 65536) -> list[Validation]:
    """Each active member's validation loss, per-target losses and KGE, and tracked means."""
    model.eval()
    chunk = max(1, chunk // model.count)
    parts = [model(val_data.x[i:i + chunk], val_data.forcing[i:i + chunk]) for i in range(0, len(val_data), chunk)]
    predictions = torch.cat([p.predictions for p in parts], dim=1)
    per_target, valid = loss_fn.per_target(val_data.y, predictions)
    members, _, targets = predictions.shape
    side_by_side = predictions.permute(1, 0, 2).reshape(-1, members * targets)
    kge = kge_parts(masked_moments(val_data.y.repeat(1, members), side_by_side))["kge"].reshape(members, targets)
    tracked = {name: torch.cat([p.outputs[name] for p in parts], dim=1).float().mean(1) if name in parts[0].outputs
               else None for name in model.tracked}
    result = []
    for k in range(members):
        loss = float(per_target[k].sum() / valid[k].sum().clamp(min=1)) if bool(valid[k].any()) else math.nan
        means = {name: float(v[k]) if v is not None else math.nan for name, v in tracked.items()}
        result.append(Validation(loss, per_target[k].tolist(), kge[k].tolist(), valid[k].tolist(), means))
    return result


def keep_members(model: MemberModel, loss_fn: MemberLoss, optimizer, positions: list[int]) -> None:
    """Slice every stacked weight and its optimiser state down to the members at ``positions``."""
    for p in list(model.parameters()) + list(loss_fn.parameters()):
        index = torch.tensor(positions, device=p.device)
        state = optimizer.state.get(p, {})
        for key, value in state.items():
            if torch.is_tensor(value) and value.dim() and value.shape[0] == p.shape[0]:
                state[key] = value.index_select(0, index)
    for p in loss_fn.parameters():
        p.data = p.data.index_select(0, torch.tensor(positions, device=p.device))
        p.grad = None
    model.keep(positions)


class MemberState:
    """One member's bookkeeping while it trains: its early stopping, history rows, why it stopped
    and, for a member that stopped without a best epoch, the weights it stopped with."""

    def __init__(self, index: int, patience: int):
        self.index, self.stopping, self.history, self.stopped = index, EarlyStopping(patience), [], ""
        self.final_state: dict | None = None

    def stop(self, model: MemberModel, position: int, why: str) -> None:
        self.stopped = why
        if self.stopping.best_state is None:
            self.final_state = {k: v.detach().clone() for k, v in MemberSlice(model, position).state_dict().items()}


@torch.no_grad()
def restore_members(model: MemberModel, members: list[MemberState], active: list[MemberState],
                    seeds: list[int]) -> None:
    """Every member back in the stack, at the weights of its best epoch; one without (no finite
    validation loss: it diverged; or no epoch at all: cancelled at once) at the weights it
    stopped with, as a single run keeps them."""
    current = {member.index: position for position, member in enumerate(active)}
    states = []
    for member in members:
        state = member.stopping.best_state if member.stopping.best_state is not None else member.final_state
        if state is None:  # still in the stack, without an epoch
            state = {k: v.detach().clone() for k, v in MemberSlice(model, current[member.index]).state_dict().items()}
        states.append(state)
    model.count = len(members)
    model.reseed(seeds)
    for name, parameter in model.named_parameters():
        parameter.data = torch.stack([state[name] for state in states])
    model.eval()
