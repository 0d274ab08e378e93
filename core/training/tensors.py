"""The tensors of one split, as training and evaluation take them: :class:`Tensors`."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Tensors:
    """Model inputs and observations for one split.

    Parameters
    ----------
    x : torch.Tensor, shape (n, p)
    forcing : torch.Tensor, shape (n, f)
    y : torch.Tensor, shape (n, T)
        NaN where an observation is missing.
    """

    x: torch.Tensor
    forcing: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.x.shape[0]

    def take(self, index: torch.Tensor) -> "Tensors":
        # index_select is several times faster than advanced indexing x[index] on the CPU
        return Tensors(self.x.index_select(0, index), self.forcing.index_select(0, index),
                       self.y.index_select(0, index))

    def slice(self, start: int, stop: int) -> "Tensors":
        """Rows start:stop as views (no copy)."""
        return Tensors(self.x[start:stop], self.forcing[start:stop], self.y[start:stop])

    def to(self, device) -> "Tensors":
        return Tensors(self.x.to(device), self.forcing.to(device), self.y.to(device))
