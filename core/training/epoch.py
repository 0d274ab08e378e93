"""The parts of one training epoch, shared by every run (a single run is an ensemble of one):
the mini-batch pass (:func:`epoch_sums`), the best epoch kept (:class:`EarlyStopping`), the
epoch's history row (:func:`history_row`, column names from :class:`HistoryColumns`), what a
training ends with (:class:`TrainResult`) and the model evaluated on rows (:func:`predict`).
The loop that puts them together is :func:`core.training.loop.train_members`.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch
from torch import nn

from core.hybrid.model import ModelOutput, TrainableModel
from core.training.tensors import Tensors


@dataclass
class TrainResult:
    """How one model's training went (for an ensemble, one per member).

    Parameters
    ----------
    history : list of dict
        One row per epoch (:func:`history_row`).
    best_epoch : int
        The epoch whose weights the model holds (0: none had a finite validation loss).
    epochs_run : int
    seconds : float
        Wall time of the training (for a member: of the whole ensemble's).
    stopped : str
        "early stopping", "max epochs", "cancelled" or "diverged".
    """

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
        an ensemble (:class:`core.hybrid.members.MemberModel`) adds a leading member dimension to each.
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


@dataclass
class Validation:
    """The validation step's result: total loss, per-target losses and KGE, and tracked means."""

    loss: float
    per_target: list[float]
    kge: list[float]
    observed: list[bool]
    tracked: dict[str, float]


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
