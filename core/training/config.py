"""Training settings: :class:`TrainConfig`, plain data checked in one place."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from core.errors import HybridlabError
from core.training.losses import LOSS_KINDS, WEIGHTINGS
from core.validation import check_choice, check_integer, check_number, settings_from_dict
from core.formatting import short_repr

#: optimisers by name (torch.optim classes, looked up by the training loop)
OPTIMIZER_NAMES = ("rmsprop", "adam", "adamw")
GLOBAL_STARTS = ("default", "random")
#: where neural parameters start: mid-bounds (the output layer starts near 0) or each member's output
#: bias drawn across the unit interval (over-dispersed starts, as MCMC convergence checks use)
NEURAL_STARTS = ("default", "dispersed")
DEVICES = ("cpu", "cuda")
PRECISIONS = ("float32", "bf16-mixed")
#: the most members one run trains at once
MAX_MEMBERS = 256
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
    members : int
        Ensemble members trained at once as one model (:mod:`core.hybrid.members`); member k has
        seed ``seed + k``.
    precision : str
        float32, or bf16-mixed (the backbone in bfloat16 where the CPU has bf16 matrix units).
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
    neural_start: str = "default"
    members: int = 1
    precision: str = "float32"

    def __post_init__(self):
        check_choice(self.optimizer, OPTIMIZER_NAMES, "optimizer")
        check_choice(self.loss, LOSS_KINDS, "loss")
        check_choice(self.weighting, WEIGHTINGS, "loss weighting")
        check_choice(self.global_start, GLOBAL_STARTS, "global start")
        check_choice(self.neural_start, NEURAL_STARTS, "neural start")
        check_choice(self.precision, PRECISIONS, "precision")
        self.lr = check_number(self.lr, "learning rate", 0.0, include_low=False)
        self.batch_size = check_integer(self.batch_size, "batch size")
        self.epochs = check_integer(self.epochs, "epochs")
        self.patience = check_integer(self.patience, "patience")
        self.seed = check_integer(self.seed, "seed", minimum=0, maximum=MAX_SEED)
        self.members = check_integer(self.members, "members", minimum=1, maximum=MAX_MEMBERS)
        if self.seed + self.members - 1 > MAX_SEED:
            raise HybridlabError(f"members: seeds {self.seed} to {self.seed + self.members - 1} pass the largest seed "
                                 f"{MAX_SEED}; give a smaller seed")
        check_choice(self.device.split(":")[0] if isinstance(self.device, str) else self.device, DEVICES, "device")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise HybridlabError(f"device {short_repr(self.device)} requested but no CUDA device is available")

    @property
    def member_seeds(self) -> list[int]:
        """The seed of each member."""
        return [self.seed + k for k in range(self.members)]

    def to_dict(self) -> dict:
        values = asdict(self)
        # plans written before these settings existed stay equal
        for key, default in (("global_start", "default"), ("neural_start", "default"), ("members", 1),
                             ("precision", "float32")):
            if values[key] == default:
                del values[key]
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> "TrainConfig":
        return settings_from_dict(cls, values, "train")


def cpu_bf16_units() -> str | None:
    """The CPU's bfloat16 matrix units, as a short name (``AMX``, ``AVX512-BF16``), or None."""
    probes = (("AMX", "_is_amx_tile_supported"), ("AVX512-BF16", "_is_avx512_bf16_supported"))
    for name, probe in probes:
        check = getattr(torch.cpu, probe, None)
        try:
            if check is not None and check():
                return name
        except RuntimeError:  # a build without the probe's kernels
            continue
    return None


def check_precision(config: TrainConfig) -> None:
    """Refuse bf16-mixed on a CPU without bf16 matrix units: it would emulate bfloat16 and crawl."""
    if config.precision == "bf16-mixed" and config.device == "cpu" and cpu_bf16_units() is None:
        raise HybridlabError("precision bf16-mixed: this CPU has no bfloat16 matrix units (AMX or AVX512-BF16), so "
                             "it would be slower than float32; use --precision float32")
