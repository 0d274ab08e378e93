"""Training: mini-batches by slicing in-memory tensors, a validation step per epoch, early
stopping with a checkpoint of the best epoch, callbacks and cancellation.

One epoch is :func:`train_epoch`, then :func:`validate`; :class:`EarlyStopping` keeps the best
weights; :func:`history_row` writes the epoch's row, whose column names come from
:class:`HistoryColumns`.
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
from .hybrid import ModelOutput, TrainableModel
from .losses import MultiTaskLoss
from .metrics import kge_parts, masked_moments
from .network import Dropout
from .tensors import Tensors
from .train_config import OPTIMIZER_NAMES, TrainConfig, check_precision

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
class TrainResult:
    history: list[dict]
    best_epoch: int
    epochs_run: int
    seconds: float
    stopped: str  # "early stopping", "max epochs", "cancelled" or "diverged"


class HistoryColumns:
    """Names of the columns of a training history (one row per epoch), for everyone who reads it."""

    common = ("epoch", "train_loss", "val_loss", "best_val_loss", "best_epoch", "epoch_seconds", "elapsed_seconds")

    @staticmethod
    def train_loss(target: str) -> str:
        return f"train_loss_{target}"

    @staticmethod
    def val_loss(target: str) -> str:
        return f"val_loss_{target}"

    @staticmethod
    def val_kge(target: str) -> str:
        return f"val_kge_{target}"

    @staticmethod
    def global_value(parameter: str) -> str:
        return f"global_{parameter}"

    @staticmethod
    def tracked_mean(output: str) -> str:
        return f"val_mean_{output}"


@torch.inference_mode()
def predict(model: nn.Module, data: Tensors, chunk: int = 65536) -> ModelOutput:
    """Evaluate the model (eval mode, no dropout) on all rows, in chunks.

    Parameters
    ----------
    model : torch.nn.Module
        A TrainableModel.
    data : Tensors
        Predictors (n, p), forcing (n, f) and targets (n, t) of the rows.
    chunk : int
        Rows per forward pass.

    Returns
    -------
    ModelOutput
        Predictions (n, t), parameters (name -> (n,)) and outputs (name -> (n,)), concatenated;
        an ensemble (:class:`core.members.MemberModel`) adds a leading member dimension to each.
    """
    was_training = model.training
    model.eval()
    chunk = max(1, chunk // getattr(model, "count", 1))  # an ensemble's K members: K times the rows
    parts = [model(data.x[i:i + chunk], data.forcing[i:i + chunk]) for i in range(0, max(len(data), 1), chunk)]
    model.train(was_training)
    n = len(data)
    rows = 1 if parts[0].predictions.dim() == 3 else 0  # an ensemble's outputs lead with the member
    predictions = torch.cat([p.predictions for p in parts], rows)
    parameters = {k: torch.cat([p.parameters[k] for p in parts], rows) for k in parts[0].parameters}
    # per-sample outputs only (scalars such as penalties are left out)
    outputs = {k: torch.cat([p.outputs[k] for p in parts], rows) for k, v in parts[0].outputs.items()
               if v.dim() == 1 + rows and not k.startswith("penalty")}
    outputs = {k: v for k, v in outputs.items() if v.shape[rows] == n}
    return ModelOutput(predictions, parameters, outputs, None)


@dataclass
class EpochLosses:
    """Training losses of one epoch: the mean total over batches and the mean per target (T,)."""

    total: float
    per_target: list[float]
    observed: list[bool]
    batches: int


def epoch_sums(model: nn.Module, shuffled: Tensors, loss_fn: nn.Module, optimizer: torch.optim.Optimizer,
               batch_size: int, stop_event: threading.Event | None, precision: str = "float32") -> tuple:
    """One pass over the (already shuffled) training rows in mini-batches, for one model (a scalar
    loss) or an ensemble's members (a loss per member, whose sum is minimised); stops early when
    ``stop_event`` is set. Returns the sums over batches of the loss and of the per-target losses,
    the count of batches in which each target had data, and the number of batches done."""
    device = shuffled.x.device
    sum_loss = sum_target = n_target = torch.zeros((), device=device)
    batches = 0
    model.train()
    for start in range(0, len(shuffled), batch_size):
        if stop_event is not None and stop_event.is_set():
            break
        batch = shuffled.slice(start, start + batch_size)
        with precision_context(precision, device):
            out = model(batch.x, batch.forcing)
        loss, per_target, valid = loss_fn(batch.y, out.predictions)
        for extra in (out.penalty, model.observation_penalty(out.parameters, batch.y)):
            if extra is not None:
                loss = loss + extra
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        sum_loss = sum_loss + loss.detach()
        sum_target = sum_target + per_target.detach()
        n_target = n_target + valid.to(per_target.dtype)
        batches += 1
    return sum_loss, sum_target, n_target, batches


def train_epoch(model: nn.Module, shuffled: Tensors, loss_fn: MultiTaskLoss, optimizer: torch.optim.Optimizer,
                batch_size: int, stop_event: threading.Event | None, precision: str = "float32") -> EpochLosses:
    """One pass over the (already shuffled) training rows in mini-batches; stops early when
    ``stop_event`` is set (``batches`` then counts only the batches done)."""
    sum_loss, sum_target, n_target, batches = epoch_sums(model, shuffled, loss_fn, optimizer, batch_size, stop_event,
                                                         precision)
    n_target = n_target.expand(shuffled.y.shape[1]) if n_target.dim() == 0 else n_target
    sum_target = sum_target.expand(shuffled.y.shape[1]) if sum_target.dim() == 0 else sum_target
    per_target = (sum_target / n_target.clamp(min=1)).tolist()
    return EpochLosses(float(sum_loss / max(batches, 1)), per_target, (n_target > 0).tolist(), batches)


@dataclass
class Validation:
    """The validation step's result: total loss, per-target losses and KGE, and tracked means."""

    loss: float
    per_target: list[float]
    kge: list[float]
    observed: list[bool]
    tracked: dict[str, float]


def validate(model: TrainableModel, val_data: Tensors, loss_fn: MultiTaskLoss) -> Validation:
    """Loss and KGE per target on the validation rows, and the mean of each tracked output."""
    out = predict(model, val_data)
    per_target, valid = loss_fn.per_target(val_data.y, out.predictions)
    loss = float(per_target.sum() / valid.sum().clamp(min=1)) if bool(valid.any()) else math.nan
    kge = kge_parts(masked_moments(val_data.y, out.predictions))["kge"]
    tracked = {name: float(out.outputs[name].float().mean()) if name in out.outputs else math.nan
               for name in model.tracked}
    return Validation(loss, per_target.tolist(), kge.tolist(), valid.tolist(), tracked)


class EarlyStopping:
    """Keeps a copy of the weights of the epoch with the lowest validation loss, and says when
    ``patience`` epochs have passed without improvement."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_loss, self.best_epoch = math.inf, 0
        self.best_state: dict | None = None

    def update(self, model: nn.Module, epoch: int, val_loss: float) -> None:
        if math.isfinite(val_loss) and val_loss < self.best_loss:
            self.best_loss, self.best_epoch = val_loss, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def should_stop(self, epoch: int) -> bool:
        return epoch - self.best_epoch >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


def history_row(model: TrainableModel, epoch: int, losses: EpochLosses, validation: Validation,
                stopping: EarlyStopping, epoch_seconds: float, elapsed_seconds: float,
                global_values: dict | None = None) -> dict:
    """The history row of one epoch (column names from :class:`HistoryColumns`); ``global_values``
    replaces the model's own (an ensemble member's)."""
    row = {"epoch": epoch, "train_loss": losses.total, "val_loss": validation.loss,
           "best_val_loss": stopping.best_loss, "best_epoch": stopping.best_epoch,
           "epoch_seconds": epoch_seconds, "elapsed_seconds": elapsed_seconds}
    values = model.global_values() if global_values is None else global_values
    row.update({HistoryColumns.global_value(k): v for k, v in values.items()})
    row.update({HistoryColumns.tracked_mean(k): v for k, v in validation.tracked.items()})
    for j, target in enumerate(model.targets):
        row[HistoryColumns.train_loss(target)] = losses.per_target[j] if losses.observed[j] else math.nan
        row[HistoryColumns.val_loss(target)] = validation.per_target[j] if validation.observed[j] else math.nan
        row[HistoryColumns.val_kge(target)] = validation.kge[j] if validation.observed[j] else math.nan
    return row


def precision_context(precision: str, device: torch.device):
    """Autocast for ``bf16-mixed`` (the backbone's matrix products in bfloat16; the mechanistic
    model and the loss stay float32, as they take the backbone's output cast back), else nothing."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")


def _reseed(model: nn.Module, seed: int) -> torch.Generator:
    """Seed torch, every dropout layer and the shuffling generator from the run's seed."""
    with GLOBAL_GENERATOR:
        torch.manual_seed(seed)
    for i, module in enumerate(model.modules()):
        if isinstance(module, Dropout):
            module.reseed((seed, i))
    return torch.Generator().manual_seed(seed)


def train(model: TrainableModel, train_data: Tensors, val_data: Tensors, config: TrainConfig,
          callbacks: Iterable[Callable[[dict], None]] = (), stop_event: threading.Event | None = None) -> TrainResult:
    """Fit ``model`` in place and restore the weights of the best validation epoch.

    Parameters
    ----------
    model : TrainableModel
        A hybrid or a pure network, its normalisation set from the training rows.
    train_data, val_data : Tensors
        The training and validation rows.
    config : TrainConfig
        Optimiser, learning rate, batch size, epochs, patience, loss, seed, device.
    callbacks : iterable of callable
        Each receives every epoch's history row (a dict).
    stop_event : threading.Event, optional
        Set from another thread: training ends after the current batch; the best weights are kept.

    Returns
    -------
    TrainResult
        History, epochs run, best epoch, seconds and why it stopped.
    """
    check_precision(config)
    keep_freed_memory()
    device = torch.device(config.device)
    model.to(device)
    train_data, val_data = train_data.to(device), val_data.to(device)
    generator = _reseed(model, config.seed)
    if config.global_start == "random":
        model.start_globals_at_random(torch.Generator().manual_seed(config.seed + GLOBAL_START_OFFSET))
    if config.neural_start == "dispersed":
        model.start_neural_dispersed(torch.Generator().manual_seed(config.seed + NEURAL_START_OFFSET))
    loss_fn = MultiTaskLoss(len(model.targets), config.loss, config.weighting).to(device)
    trainable = [p for p in model.parameters() if p.requires_grad] + list(loss_fn.parameters())
    # foreach: one multi-tensor update instead of a Python loop over parameters (torch enables it
    # by default only on CUDA)
    optimizer = OPTIMIZERS[config.optimizer](trainable, lr=config.lr, foreach=True)
    stopping = EarlyStopping(config.patience)
    history: list[dict] = []
    stopped = "max epochs"
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        # one gather of the whole split per epoch; the mini-batches are then contiguous slices
        shuffled = train_data.take(torch.randperm(len(train_data), generator=generator).to(device))
        losses = train_epoch(model, shuffled, loss_fn, optimizer, config.batch_size, stop_event, config.precision)
        cancelled = stop_event is not None and stop_event.is_set()
        if cancelled and losses.batches == 0:
            stopped = "cancelled"
            break
        validation = validate(model, val_data, loss_fn)
        stopping.update(model, epoch, validation.loss)
        now = time.perf_counter()
        history.append(history_row(model, epoch, losses, validation, stopping, now - epoch_start, now - start))
        for callback in callbacks:
            callback(history[-1])
        if cancelled:
            stopped = "cancelled"
            break
        if not (math.isfinite(losses.total) and math.isfinite(validation.loss)):
            stopped = "diverged"
            break
        if stopping.should_stop(epoch):
            stopped = "early stopping"
            break
    stopping.restore(model)
    model.eval()
    return TrainResult(history, stopping.best_epoch, len(history), time.perf_counter() - start, stopped)
