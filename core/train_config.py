"""Training settings: :class:`TrainConfig`, plain data checked in one place."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from .errors import HybridlabError
from .losses import LOSS_KINDS, WEIGHTINGS
from .validation import check_choice, check_integer, check_number, settings_from_dict
from .formatting import short_repr

#: optimisers by name (torch.optim classes, looked up by the training loop)
OPTIMIZER_NAMES = ("rmsprop", "adam", "adamw")
GLOBAL_STARTS = ("default", "random")
DEVICES = ("cpu", "cuda")
#: seeds reach NumPy and scikit-learn, which take 32-bit unsigned seeds
MAX_SEED = 2 ** 32 - 1


@dataclass
class TrainConfig:
    """Optimiser and loop settings. Defaults are the report's: RMSprop, lr 0.01, batch 2048, up to
    1000 epochs, early stopping patience 100, loss mean(1 - KGE).

    Parameters
    ----------
    optimizer : str
        rmsprop, adam or adamw.
    lr : float
    batch_size, epochs, patience : int
    seed : int
        Initialisation, split and shuffling.
    device : str
        cpu or cuda.
    loss : str
        kge, nse or mse, per target.
    weighting : str
        How targets combine: mean, or uncertainty (learned weights).
    global_start : str
        Where global parameters start: default or random.
    """

    optimizer: str = "rmsprop"
    lr: float = 0.01
    batch_size: int = 2048
    epochs: int = 1000
    patience: int = 100
    seed: int = 0
    device: str = "cpu"
    loss: str = "kge"
    weighting: str = "mean"
    #: where global parameters start: their defaults, or a seeded random point within the bounds
    #: (an ensemble's members then start apart, so that their agreement means something)
    global_start: str = "default"

    def __post_init__(self):
        check_choice(self.optimizer, OPTIMIZER_NAMES, "optimizer")
        check_choice(self.loss, LOSS_KINDS, "loss")
        check_choice(self.weighting, WEIGHTINGS, "loss weighting")
        check_choice(self.global_start, GLOBAL_STARTS, "global start")
        self.lr = check_number(self.lr, "learning rate", 0.0, include_low=False)
        self.batch_size = check_integer(self.batch_size, "batch size")
        self.epochs = check_integer(self.epochs, "epochs")
        self.patience = check_integer(self.patience, "patience")
        self.seed = check_integer(self.seed, "seed", minimum=0, maximum=MAX_SEED)
        check_choice(self.device.split(":")[0] if isinstance(self.device, str) else self.device, DEVICES, "device")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise HybridlabError(f"device {short_repr(self.device)} requested but no CUDA device is available")

    def to_dict(self) -> dict:
        values = asdict(self)
        if values["global_start"] == "default":  # plans written before the setting existed stay equal
            del values["global_start"]
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> "TrainConfig":
        return settings_from_dict(cls, values, "train")
