"""Training: the one epoch loop, :func:`train_members`, for K members at once. A single run is
an ensemble of one (K = 1, whose layers are those of one model, :mod:`core.hybrid.members`), and
:func:`train` fits one model through it.

Each epoch: one shuffle of the training rows (following the first member's seed), one pass over
the mini-batches for every member (:func:`core.training.members.member_epoch`), a validation step
per member, each member's history row (:func:`core.training.epoch.history_row`) and its early stopping
(:class:`core.training.epoch.EarlyStopping`). A member whose validation loss has not improved for
``patience`` epochs, or whose loss became non-finite, is sliced out of the stack with its
optimiser state, so it takes no further updates and costs nothing more. Training ends when the
last member stops; every member then holds the weights of its best epoch.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterable

import torch

from core.training.allocator import keep_freed_memory
from core.training.epoch import (EarlyStopping, EpochLosses, HistoryColumns, TrainResult, Validation, epoch_sums, history_row,
                    precision_context, predict)
from core.hybrid.model import TrainableModel
from core.training.members import (MemberEpoch, MemberLoss, MemberSlice, MemberState, keep_members, member_epoch,
                              restore_members, validate_members)
from core.hybrid.members import MemberModel
from core.training.tensors import Tensors
from core.training.config import OPTIMIZER_NAMES, TrainConfig, check_precision

#: held while seeding torch's one random generator per process and drawing from it: runs trained
#: in threads at once (the dashboard without workers) would otherwise reseed each other's draws
GLOBAL_GENERATOR = threading.Lock()
#: added to the run's seed for the generator of random global starts (shuffling keeps its own stream)
GLOBAL_START_OFFSET = 7919
#: added to the seed for the generator of dispersed neural starts
NEURAL_START_OFFSET = 104729
OPTIMIZERS = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
assert tuple(OPTIMIZERS) == OPTIMIZER_NAMES


@dataclass
class MembersResult:
    """One :class:`TrainResult` per member (its history, best epoch, why it stopped) and the
    seconds the whole ensemble took."""

    members: list[TrainResult]
    seconds: float


def _prepare(model: MemberModel, config: TrainConfig) -> torch.Generator:
    """Seed torch, each member's dropout masks and starts from its seed; returns the shuffling
    generator (the first member's seed: for one member, the run's seed)."""
    seeds = config.member_seeds
    with GLOBAL_GENERATOR:
        torch.manual_seed(seeds[0])
    model.reseed(seeds)
    if config.global_start == "random" and model.global_logits is not None:
        model.start_globals_at_random([torch.Generator().manual_seed(s + GLOBAL_START_OFFSET) for s in seeds])
    if config.neural_start == "dispersed":
        model.start_neural_dispersed([torch.Generator().manual_seed(s + NEURAL_START_OFFSET) for s in seeds])
    return torch.Generator().manual_seed(seeds[0])


def _start(model: MemberModel, config: TrainConfig, device: torch.device) -> tuple:
    """The model on its device and seeded; the shuffling generator, the loss and the optimiser."""
    check_precision(config)
    keep_freed_memory()
    model.to(device)
    generator = _prepare(model, config)
    loss_fn = MemberLoss(model.count, len(model.targets), config.loss, config.weighting).to(device)
    # foreach: one multi-tensor update instead of a Python loop over parameters (torch enables it
    # by default only on CUDA)
    optimizer = OPTIMIZERS[config.optimizer](list(model.parameters()) + list(loss_fn.parameters()), lr=config.lr,
                                             foreach=True)
    return generator, loss_fn, optimizer


def _drop_stopped(model: MemberModel, loss_fn: MemberLoss, optimizer, active: list[MemberState]) -> list[MemberState]:
    """The members that train on; those that stopped this epoch are sliced out of the stack (when
    all stopped, the stack stays as it is: :func:`restore_members` reads their weights)."""
    still = [position for position, member in enumerate(active) if not member.stopped]
    if still and len(still) < len(active):
        keep_members(model, loss_fn, optimizer, still)
    return [active[position] for position in still]


def _record(active: list[MemberState], model: MemberModel, epoch: int, losses: MemberEpoch,
            validations: list[Validation], seconds: tuple[float, float]) -> None:
    """Each active member's history row, best weights and stop reason after an epoch."""
    values = model.global_values()
    for position, member in enumerate(active):
        validation = validations[position]
        member.stopping.update(MemberSlice(model, position), epoch, validation.loss)
        mine = EpochLosses(float(losses.totals[position]), losses.per_target[position].tolist(),
                           losses.observed[position].tolist(), losses.batches)
        member.history.append(history_row(model.head, epoch, mine, validation, member.stopping, *seconds,
                                          global_values=values[position]))
        if not (math.isfinite(mine.total) and math.isfinite(validation.loss)):
            member.stop(model, position, "diverged")
        elif member.stopping.should_stop(epoch):
            member.stop(model, position, "early stopping")


def train_members(model: MemberModel, train_data: Tensors, val_data: Tensors, config: TrainConfig,
                  callbacks: Iterable[Callable[[list[dict]], None]] = (),
                  stop_event: threading.Event | None = None) -> MembersResult:
    """Fit the members of ``model`` in place; each ends with the weights of its best epoch.

    Parameters
    ----------
    model : MemberModel
        ``config.members`` members (one for a single run) at their initial weights, transforms
        set from the training rows.
    train_data, val_data : Tensors
        The training and validation rows, shared by the members.
    config : TrainConfig
        Optimiser, learning rate, batch size, epochs, patience, loss, device; member k has seed
        ``config.seed + k``.
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
    device = torch.device(config.device)
    train_data, val_data = train_data.to(device), val_data.to(device)
    generator, loss_fn, optimizer = _start(model, config, device)
    members = [MemberState(k, config.patience) for k in range(model.count)]
    active = list(members)
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        # one gather of the whole split per epoch; the mini-batches are then contiguous slices
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
        active = _drop_stopped(model, loss_fn, optimizer, active)
        if not active:
            break
    for member in active:
        member.stopped = "cancelled" if stop_event is not None and stop_event.is_set() else "max epochs"
    restore_members(model, members, active, config.member_seeds)
    seconds = time.perf_counter() - start
    return MembersResult([TrainResult(m.history, m.stopping.best_epoch, len(m.history), seconds, m.stopped)
                          for m in members], seconds)


def own_row(row: dict) -> dict:
    """A member's history row as a single run's: without ``member`` and ``training``."""
    return {k: v for k, v in row.items() if k not in ("member", "training")}


def train(model: TrainableModel, train_data: Tensors, val_data: Tensors, config: TrainConfig,
          callbacks: Iterable[Callable[[dict], None]] = (), stop_event: threading.Event | None = None) -> TrainResult:
    """Fit ``model`` in place and restore the weights of the best validation epoch: an ensemble
    of one through :func:`train_members`, its weights then written back into ``model``.

    Parameters
    ----------
    model : TrainableModel
        A hybrid or a pure network, its normalisation set from the training rows.
    train_data, val_data : Tensors
        The training and validation rows.
    config : TrainConfig
        Optimiser, learning rate, batch size, epochs, patience, loss, seed, device (``members``
        is not read: this is one model).
    callbacks : iterable of callable
        Each receives every epoch's history row (a dict).
    stop_event : threading.Event, optional
        Set from another thread: training ends after the current batch; the best weights are kept.

    Returns
    -------
    TrainResult
        History, epochs run, best epoch, seconds and why it stopped.
    """
    callbacks = list(callbacks)
    stack = MemberModel([model])
    outcome = train_members(stack, train_data, val_data, replace(config, members=1),
                            [lambda rows: [callback(own_row(rows[0])) for callback in callbacks]], stop_event)
    model.to(torch.device(config.device))
    model.load_state_dict(stack.member(0).state_dict())
    model.eval()
    return outcome.members[0]


__all__ = ["GLOBAL_GENERATOR", "GLOBAL_START_OFFSET", "NEURAL_START_OFFSET", "OPTIMIZERS", "EarlyStopping",
           "HistoryColumns", "MembersResult", "Tensors", "TrainConfig", "TrainResult", "precision_context", "predict",
           "train", "train_members"]
