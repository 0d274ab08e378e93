"""Training: mini-batches by indexing in-memory tensors, early stopping, callbacks, cancellation."""
from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable

import torch
from torch import nn

from .errors import HybridlabError
from .hybrid import ModelOutput
from .losses import LOSS_KINDS, WEIGHTINGS, MultiTaskLoss
from .metrics import kge_parts, masked_moments
from .network import Dropout

OPTIMIZERS = {"rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


@dataclass
class TrainConfig:
    """Optimiser and loop settings. Defaults are the report's: RMSprop, lr 0.01, batch 2048,
    up to 1000 epochs, early stopping patience 100, loss mean(1 - KGE)."""

    optimizer: str = "rmsprop"
    lr: float = 0.01
    batch_size: int = 2048
    epochs: int = 1000
    patience: int = 100
    seed: int = 0
    device: str = "cpu"
    loss: str = "kge"
    weighting: str = "mean"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise HybridlabError(f"unknown optimizer {self.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
        if self.loss not in LOSS_KINDS:
            raise HybridlabError(f"unknown loss {self.loss!r}; use one of {', '.join(LOSS_KINDS)}")
        if self.weighting not in WEIGHTINGS:
            raise HybridlabError(f"unknown loss weighting {self.weighting!r}; use one of {', '.join(WEIGHTINGS)}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise HybridlabError(f"learning rate must be a positive number, got {self.lr}")
        for name in ("batch_size", "epochs", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise HybridlabError(f"{name.replace('_', ' ')} must be a positive integer, got {v!r}")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise HybridlabError(f"device {self.device!r} requested but no CUDA device is available")
        if self.device != "cpu" and not self.device.startswith("cuda"):
            raise HybridlabError(f"unknown device {self.device!r}; use 'cpu' or 'cuda'")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Tensors:
    """Model inputs and observations for one split: x (n, p), forcing (n, f), y (n, T) with NaN = missing."""

    x: torch.Tensor
    forcing: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.x.shape[0]

    def take(self, idx: torch.Tensor) -> "Tensors":
        # index_select is several times faster than advanced indexing x[idx] on the CPU
        return Tensors(self.x.index_select(0, idx), self.forcing.index_select(0, idx), self.y.index_select(0, idx))

    def slice(self, start: int, stop: int) -> "Tensors":
        """Rows start:stop as views (no copy)."""
        return Tensors(self.x[start:stop], self.forcing[start:stop], self.y[start:stop])

    def to(self, device) -> "Tensors":
        return Tensors(self.x.to(device), self.forcing.to(device), self.y.to(device))


@dataclass
class TrainResult:
    history: list[dict]
    best_epoch: int
    epochs_run: int
    seconds: float
    stopped: str  # "early stopping", "max epochs", "cancelled" or "diverged"


@torch.inference_mode()
def predict(model: nn.Module, data: Tensors, chunk: int = 65536) -> ModelOutput:
    """Evaluate the model (eval mode, no dropout) on all rows, in chunks; per-sample outputs concatenated."""
    was_training = model.training
    model.eval()
    parts = [model(data.x[i:i + chunk], data.forcing[i:i + chunk]) for i in range(0, max(len(data), 1), chunk)]
    model.train(was_training)
    n = len(data)
    preds = torch.cat([p.predictions for p in parts])
    params = {k: torch.cat([p.parameters[k] for p in parts]) for k in parts[0].parameters}
    # per-sample outputs only (scalars such as penalties are left out)
    outputs = {k: torch.cat([p.outputs[k] for p in parts]) for k, v in parts[0].outputs.items()
               if v.dim() == 1 and not k.startswith("penalty")}
    outputs = {k: v for k, v in outputs.items() if v.shape[0] == n}
    return ModelOutput(preds, params, outputs, None)


def train(model: nn.Module, train_data: Tensors, val_data: Tensors, config: TrainConfig,
          callbacks: Iterable[Callable[[dict], None]] = (), stop_event: threading.Event | None = None) -> TrainResult:
    """Fit ``model`` in place and restore the weights of the best validation epoch.

    After each epoch every callback receives the history row (a dict of floats: epoch, losses
    per target, validation KGE per target, timing). Setting ``stop_event`` from another thread
    ends training after the current batch; the best weights are kept.
    """
    device = torch.device(config.device)
    model.to(device)
    train_data, val_data = train_data.to(device), val_data.to(device)
    targets = list(model.targets)
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    for i, module in enumerate(model.modules()):
        if isinstance(module, Dropout):
            module.reseed((config.seed, i))
    loss_fn = MultiTaskLoss(len(targets), config.loss, config.weighting).to(device)
    params = [p for p in model.parameters() if p.requires_grad] + list(loss_fn.parameters())
    # foreach: one multi-tensor update instead of a Python loop over parameters (torch enables it
    # by default only on CUDA)
    optimizer = OPTIMIZERS[config.optimizer](params, lr=config.lr, foreach=True)
    callbacks = list(callbacks)

    n = len(train_data)
    best_loss, best_epoch, best_state = math.inf, 0, None
    history: list[dict] = []
    stopped = "max epochs"
    t0 = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        te = time.perf_counter()
        model.train()
        # one gather of the whole split per epoch; the mini-batches are then contiguous slices
        shuffled = train_data.take(torch.randperm(n, generator=gen).to(device))
        sum_loss = torch.zeros((), device=device)
        sum_target = torch.zeros(len(targets), device=device)
        n_target = torch.zeros(len(targets), device=device)
        n_batches = 0
        cancelled = False
        for start in range(0, n, config.batch_size):
            if stop_event is not None and stop_event.is_set():
                cancelled = True
                break
            batch = shuffled.slice(start, start + config.batch_size)
            out = model(batch.x, batch.forcing)
            loss, per_target, valid = loss_fn(batch.y, out.predictions)
            if out.penalty is not None:
                loss = loss + out.penalty
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sum_loss += loss.detach()
            sum_target += per_target.detach()
            n_target += valid.to(n_target.dtype)
            n_batches += 1
        if cancelled and n_batches == 0:
            stopped = "cancelled"
            break

        val_out = predict(model, val_data)
        mom = masked_moments(val_data.y, val_out.predictions)
        val_per_target, val_valid = loss_fn.per_target(val_data.y, val_out.predictions)
        val_loss = float(val_per_target.sum() / val_valid.sum().clamp(min=1)) if bool(val_valid.any()) else math.nan
        val_kge = kge_parts(mom)["kge"]
        train_loss = float(sum_loss / max(n_batches, 1))

        improved = math.isfinite(val_loss) and val_loss < best_loss
        if improved:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        now = time.perf_counter()
        row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
               "best_val_loss": best_loss, "best_epoch": best_epoch,
               "epoch_seconds": now - te, "elapsed_seconds": now - t0}
        tl = (sum_target / n_target.clamp(min=1)).tolist()
        vl, vk, vv = val_per_target.tolist(), val_kge.tolist(), val_valid.tolist()
        if hasattr(model, "global_values"):
            row.update({f"global_{k}": v for k, v in model.global_values().items()})
        for name in getattr(model, "tracked", ()):
            row[f"val_mean_{name}"] = float(val_out.outputs[name].float().mean()) if name in val_out.outputs else math.nan
        for j, t in enumerate(targets):
            row[f"train_loss_{t}"] = tl[j] if n_target[j] > 0 else math.nan
            row[f"val_loss_{t}"] = vl[j] if vv[j] else math.nan
            row[f"val_kge_{t}"] = vk[j] if vv[j] else math.nan
        history.append(row)
        for cb in callbacks:
            cb(row)

        if cancelled:
            stopped = "cancelled"
            break
        if not math.isfinite(train_loss):
            stopped = "diverged"
            break
        if epoch - best_epoch >= config.patience:
            stopped = "early stopping"
            break

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(history, best_epoch, len(history), time.perf_counter() - t0, stopped)
