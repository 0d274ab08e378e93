"""``hybridlab bench``: speed and memory figures, measured, never asserted in tests.
``training``: epochs of the network and the SOC hybrid, against the matmul peak and a plain
PyTorch loop, the steady state, the SOC experiment; ``sweep``: the Dask executor against running
the same runs one after another. Installed packages add figures through entry points
(``hybridlab.benchmarks``; the dashboard's live views) and modes (``hybridlab.bench_modes``; the
dashboard under load)."""
from .sweep import sweep_speedup
from .training import dense_flops, run

__all__ = ["run", "dense_flops", "sweep_speedup"]
