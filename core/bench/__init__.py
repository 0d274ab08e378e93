"""``hybridlab bench``: speed and memory figures, measured, never asserted in tests.
``training``: epochs of the network and the SOC hybrid, against the matmul peak and a plain
PyTorch loop, the steady state, the SOC experiment; ``ensemble``: K members trained as one model
against K runs one after another; ``maps``: a SOC hybrid mapped over a Europe-sized grid;
``sweep``: the Dask executor against running the same runs one
after another. Installed packages add figures through entry points
(``hybridlab.benchmarks``; the dashboard's live views) and modes (``hybridlab.bench_modes``; the
dashboard under load)."""
from core.bench.ensemble import ensemble_speedup
from core.bench.maps import map_throughput
from core.bench.sweep import sweep_speedup
from core.bench.flops import dense_flops
from core.bench.training import run

__all__ = ["run", "dense_flops", "ensemble_speedup", "map_throughput", "sweep_speedup"]
