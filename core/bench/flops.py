"""FLOPs of the dense backbone, counted from its layer sizes."""
from __future__ import annotations


def dense_flops(n_in: int, hidden: tuple[int, ...], n_out: int) -> int:
    """Forward FLOPs per sample of the dense stack."""
    sizes = [n_in, *hidden, n_out]
    return sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:]))
