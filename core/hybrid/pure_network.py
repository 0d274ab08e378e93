"""The pure-network baseline on the hybrid's backbone: the last layer outputs the targets
directly (no mechanistic model), so that it sees what the hybrid sees and is trained the same way."""
from __future__ import annotations

from typing import Sequence

import torch

from core.errors import DataError, HybridlabError
from core.hybrid.model import ModelOutput, TrainableModel
from core.hybrid.network import NetworkConfig, Standardizer, mlp
from core.hybrid.parameters import ParameterSet


class NeuralNetwork(TrainableModel):
    """Pure-network baseline: the last layer outputs the targets directly, de-standardised with the
    training targets' mean and standard deviation.

    Parameters
    ----------
    predictors, forcing, targets : sequence of str
        As for :class:`HybridModel`.
    network : NetworkConfig, optional
        The backbone (default: the report's).
    use_forcing : bool
        Feed the forcing columns too (default), so the network sees what the hybrid sees.
    log_forcing : sequence of str
        Forcing the network sees as log10 (suction h as pF), each a name in ``forcing``; its
        training values must be positive.
    """

    def __init__(self, predictors: Sequence[str], forcing: Sequence[str], targets: Sequence[str],
                 network: NetworkConfig | None = None, use_forcing: bool = True, log_forcing: Sequence[str] = ()):
        super().__init__()
        self.predictors, self.forcing, self.targets = list(predictors), list(forcing), list(targets)
        self.use_forcing = use_forcing
        self.log_columns = [self.forcing.index(f) for f in log_forcing]
        self.parameter_set = ParameterSet([])
        self.network_config = network or NetworkConfig()
        n_in = len(self.predictors) + (len(self.forcing) if use_forcing else 0)
        if n_in == 0:
            raise HybridlabError("the neural network needs at least one predictor column")
        self.normalize = Standardizer(n_in)
        self.target_scale = Standardizer(len(self.targets))
        self.net = mlp(n_in, len(self.targets), self.network_config)

    def _inputs(self, x: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        if not (self.use_forcing and self.forcing):
            return x
        if self.log_columns:
            forcing = forcing.clone()
            forcing[:, self.log_columns] = torch.log10(forcing[:, self.log_columns])
        return torch.cat([x, forcing], dim=1)

    def set_normalization(self, x: torch.Tensor, forcing: torch.Tensor, y: torch.Tensor) -> None:
        """Fit input and target z-transforms on the training split: x (n, p), forcing (n, f), y (n, T)."""
        for j in self.log_columns:
            if bool((forcing[:, j] <= 0).any()):
                raise DataError(f"forcing {self.forcing[j]}: values <= 0 in the training rows; its log10 "
                                f"(option log10_{self.forcing[j]}) needs positive values")
        self.normalize.fit(self._inputs(x, forcing))
        self.target_scale.fit(y)

    def network_input(self, x: torch.Tensor, forcing: torch.Tensor) -> torch.Tensor:
        return self.normalize(self._inputs(x, forcing))

    def assemble(self, network_output, global_logits, forcing: torch.Tensor, members: int = 1) -> ModelOutput:
        preds = self.target_scale.inverse(network_output)
        return ModelOutput(preds, {}, {t: preds[:, j] for j, t in enumerate(self.targets)}, None)


__all__ = ["NeuralNetwork"]
