"""Training K members at once: :func:`train_members`.

One shuffled pass per epoch serves every member (the shuffling follows the first member's
seed); the loss is the sum of the members' own multi-task losses, so each member's gradient is
the one its single run would get on the same batch. Early stopping is per member: a member whose
validation loss has not improved for ``patience`` epochs, or whose loss became non-finite, is
taken out of the stack (its weights and optimiser state sliced away), so it takes no further
updates and costs nothing more. Training ends when the last member stops; every member then
holds the weights of its own best epoch.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from torch import nn

from .allocator import keep_freed_memory
from .losses import MultiTaskLoss
from .members import MemberModel
from .metrics import kge_parts, masked_moments
from .tensors import Tensors
from .train_config import TrainConfig, check_precision
from .training import (GLOBAL_GENERATOR, GLOBAL_START_OFFSET, NEURAL_START_OFFSET, OPTIMIZERS, EarlyStopping, EpochLosses, TrainResult,
                       Validation, epoch_sums, history_row)


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


class _Slice:
    """Member ``position``'s weights, as :class:`EarlyStopping` reads a model's."""

    def __init__(self, model: MemberModel, position: int):
        self.model, self.position = model, position

    def state_dict(self) -> dict:
        return {name: p[self.position] for name, p in self.model.named_parameters()}


@dataclass
class _Epoch:
    totals: torch.Tensor  # (K,) mean total loss per member
    per_target: torch.Tensor  # (K, T)
    observed: torch.Tensor  # (K, T)
    batches: int


def member_epoch(model: MemberModel, shuffled: Tensors, loss_fn: MemberLoss, optimizer, batch_size: int,
                 stop_event: threading.Event | None, precision: str) -> _Epoch:
    """One pass over the shuffled training rows for every active member."""
    totals, sum_target, n_target, batches = epoch_sums(model, shuffled, loss_fn, optimizer, batch_size, stop_event,
                                                       precision)
    shape = (model.count, shuffled.y.shape[1])
    sum_target, n_target = sum_target.expand(shape), n_target.expand(shape)
    return _Epoch(totals.expand(model.count) / max(batches, 1), sum_target / n_target.clamp(min=1), n_target > 0,
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


def _keep(model: MemberModel, loss_fn: MemberLoss, optimizer, positions: list[int]) -> None:
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


@dataclass
class MembersResult:
    """One :class:`TrainResult` per member (its history, best epoch, why it stopped) and the
    seconds the whole ensemble took."""

    members: list[TrainResult]
    seconds: float


class _Member:
    """One member's bookkeeping while it trains."""

    def __init__(self, index: int, patience: int):
        self.index, self.stopping, self.history, self.stopped = index, EarlyStopping(patience), [], ""


def _prepare(model: MemberModel, config: TrainConfig, device) -> torch.Generator:
    seeds = config.member_seeds
    with GLOBAL_GENERATOR:
        torch.manual_seed(seeds[0])
    model.reseed(seeds)
    if config.global_start == "random" and model.global_logits is not None:
        model.start_globals_at_random([torch.Generator().manual_seed(s + GLOBAL_START_OFFSET) for s in seeds])
    if config.neural_start == "dispersed":
        model.start_neural_dispersed([torch.Generator().manual_seed(s + NEURAL_START_OFFSET) for s in seeds])
    return torch.Generator().manual_seed(seeds[0])


def _record(active: list[_Member], model: MemberModel, epoch: int, losses: _Epoch, validations: list[Validation],
            seconds: tuple[float, float]) -> None:
    """Each active member's history row, best weights and stop reason after an epoch."""
    values = model.global_values()
    for position, member in enumerate(active):
        validation = validations[position]
        member.stopping.update(_Slice(model, position), epoch, validation.loss)
        mine = EpochLosses(float(losses.totals[position]), losses.per_target[position].tolist(),
                           losses.observed[position].tolist(), losses.batches)
        member.history.append(history_row(model.head, epoch, mine, validation, member.stopping, *seconds,
                                          global_values=values[position]))
        if not (math.isfinite(mine.total) and math.isfinite(validation.loss)):
            member.stopped = "diverged"
        elif member.stopping.should_stop(epoch):
            member.stopped = "early stopping"


def train_members(model: MemberModel, train_data: Tensors, val_data: Tensors, config: TrainConfig,
                  callbacks: Iterable[Callable[[list[dict]], None]] = (),
                  stop_event: threading.Event | None = None) -> MembersResult:
    """Fit the members of ``model`` in place; each ends with the weights of its best epoch.

    Parameters
    ----------
    model : MemberModel
        ``config.members`` members at their initial weights, transforms set from the training rows.
    train_data, val_data : Tensors
        The training and validation rows, shared by the members.
    config : TrainConfig
        As for one run; member k has seed ``config.seed + k``.
    callbacks : iterable of callable
        Each receives, after every epoch, the latest history row of every member, with ``member``
        (its index) and ``training`` (False once it has stopped: its row is then its last).
    stop_event : threading.Event, optional
        Set from another thread: training ends after the current batch; best weights are kept.

    Returns
    -------
    MembersResult
        A TrainResult per member (``stopped``: early stopping, max epochs, cancelled or diverged).
    """
    check_precision(config)
    keep_freed_memory()
    device = torch.device(config.device)
    model.to(device)
    train_data, val_data = train_data.to(device), val_data.to(device)
    generator = _prepare(model, config, device)
    loss_fn = MemberLoss(model.count, len(model.targets), config.loss, config.weighting).to(device)
    trainable = list(model.parameters()) + list(loss_fn.parameters())
    optimizer = OPTIMIZERS[config.optimizer](trainable, lr=config.lr, foreach=True)
    members = [_Member(k, config.patience) for k in range(model.count)]
    active = list(members)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        shuffled = train_data.take(torch.randperm(len(train_data), generator=generator).to(device))
        losses = member_epoch(model, shuffled, loss_fn, optimizer, config.batch_size, stop_event, config.precision)
        cancelled = stop_event is not None and stop_event.is_set()
        if cancelled and losses.batches == 0:
            break
        now = time.perf_counter()
        _record(active, model, epoch, losses, validate_members(model, val_data, loss_fn),
                (now - epoch_start, now - start))
        latest = [{**m.history[-1], "member": m.index, "training": m in active and not m.stopped} for m in members]
        for callback in callbacks:
            callback(latest)
        if cancelled:
            break
        still = [position for position, member in enumerate(active) if not member.stopped]
        if len(still) < len(active):
            if not still:
                active = []
                break
            _keep(model, loss_fn, optimizer, still)
            active = [active[position] for position in still]
    for member in active:
        member.stopped = "cancelled" if stop_event is not None and stop_event.is_set() else "max epochs"
    _restore(model, members, config.member_seeds)
    seconds = time.perf_counter() - start
    return MembersResult([TrainResult(m.history, m.stopping.best_epoch, len(m.history), seconds, m.stopped)
                          for m in members], seconds)


@torch.no_grad()
def _restore(model: MemberModel, members: list[_Member], seeds: list[int]) -> None:
    """Every member back in the stack, at the weights of its best epoch (NaN for a member that
    never had a finite validation loss: it counts as diverged)."""
    model.count = len(members)
    model.reseed(seeds)
    for name, parameter in model.named_parameters():
        rows = []
        for member in members:
            state = member.stopping.best_state
            rows.append(state[name] if state is not None else torch.full_like(parameter[0], math.nan))
            if state is None:
                member.stopped = "diverged"
        parameter.data = torch.stack(rows)
    model.eval()
