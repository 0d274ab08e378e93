"""``hybridlab bench``: training speed against plain PyTorch and the machine's matmul limit.

All figures on the LUCAS-like data (16,743 sites, 168 covariates), batch 2048, RMSprop, the
report's backbone; medians over epochs after warm-up. FLOPs are counted from the layer sizes:
2 · in · out per sample and dense layer forward, three times that for forward and backward.
The matmul peak is the median of probes taken between the timed epochs (see :class:`MatmulProbe`).
"""
from __future__ import annotations

import json
import math
import os
import resource
import statistics
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import torch

from core.datasets import load_data
from core.experiments import ExperimentOptions, get_experiment, run_experiment
from core.hybrid.model import HybridModel
from core.hybrid.pure_network import NeuralNetwork
from core.models import get_model
from core.models.soc import steady_state
from core.hybrid.network import NetworkConfig
from core.training.splits import SplitConfig, split_rows
from core.training.loop import TrainConfig, train
from core.bench.ensemble import ensemble_speedup
from core.bench.flops import dense_flops
from core.bench.sweep import sweep_speedup
from core.bench.maps import map_throughput


class MatmulProbe:
    """Measures the float32 matmul rate (best of a few n x n products) whenever it is called.

    This machine's speed drifts by up to a factor of two within minutes, so the benchmark probes
    between training epochs (outside the epoch timings) and compares rates from the same minutes.
    """

    def __init__(self, n: int = 2048):
        self.n = n
        self.a, self.b = torch.randn(n, n), torch.randn(n, n)
        self.a @ self.b
        self.rates: list[float] = []

    def __call__(self, repeats: int = 3) -> float:
        """One probe: GFLOP/s of the best of ``repeats`` products, also kept in ``rates``."""
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            self.a @ self.b
            best = min(best, time.perf_counter() - t)
        self.rates.append(2 * self.n ** 3 / best / 1e9)
        return self.rates[-1]


def _epoch_seconds(history: list[dict], warmup: int) -> float:
    return statistics.median(r["epoch_seconds"] for r in history[warmup:])


def reference_epoch_seconds(data, train_rows, val_rows, epochs: int, warmup: int, seed: int = 0) -> float:
    """The loop a user would write from the PyTorch tutorials: TensorDataset + DataLoader(shuffle),
    the same network, loss (mean of 1 - KGE over targets, NaN masked) and RMSprop; metrics by a
    Python loop over targets. Returns the median epoch time in seconds."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    tr, va = data.tensors(train_rows), data.tensors(val_rows)
    x_mean, x_std = tr.x.mean(0), tr.x.std(0).clamp(min=1e-6)
    y_mean, y_std = torch.nanmean(tr.y, 0), torch.sqrt(torch.nanmean((tr.y - torch.nanmean(tr.y, 0)) ** 2, 0))
    cfg = NetworkConfig()
    layers, width = [], tr.x.shape[1]
    for i, h in enumerate(cfg.hidden):
        layers += [torch.nn.Linear(width, h), torch.nn.Sigmoid()]
        if i < len(cfg.hidden) - 1:
            layers.append(torch.nn.Dropout(cfg.dropout))
        width = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, tr.y.shape[1]))
    opt = torch.optim.RMSprop(net.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(tr.x, tr.y), batch_size=2048, shuffle=True)

    def kge_loss(y, p):
        losses = []
        for j in range(y.shape[1]):
            m = ~torch.isnan(y[:, j])
            if m.sum() < 2:
                continue
            o, q = y[m, j], p[m, j]
            r = torch.corrcoef(torch.stack([o, q]))[0, 1]
            alpha, beta = q.std() / o.std(), q.mean() / o.mean()
            losses.append(torch.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2))
        return torch.stack(losses).mean()

    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        net.train()
        for xb, yb in loader:
            pred = net((xb - x_mean) / x_std) * y_std + y_mean
            loss = kge_loss(yb, pred)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            kge_loss(va.y, net((va.x - x_mean) / x_std) * y_std + y_mean).item()
        times.append(time.perf_counter() - t)
    return statistics.median(times[warmup:])


def steady_state_sites_per_second(data, repeats: int = 20) -> float:
    """Forward and backward of the SOC steady state alone on every site (float32)."""
    f = data.frame
    npp, temp = torch.tensor(f["npp"].to_numpy(np.float32)), torch.tensor(f["temp"].to_numpy(np.float32))
    mass = torch.tensor(f["soil_mass"].to_numpy(np.float32))
    spec = get_model("soc")
    params = {p.name: torch.full((len(f),), p.default, requires_grad=p.name not in ("beta",)) for p in spec.parameters()}
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        out = steady_state(npp, temp, mass, **params)
        (out["soc"].sum() + out["penalty_feasibility"].mean()).backward()
        best = min(best, time.perf_counter() - t)
    return len(f) / best


def experiment_soc(seeds: int, log=print) -> dict:
    """``hybridlab experiment soc --seeds N`` at the report's settings, on the default executor."""

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        results = run_experiment(get_experiment("soc"), tmp, ExperimentOptions(seeds=seeds), log=lambda m: None)
        seconds = time.perf_counter() - t
    spread = {name: results["spread"][name]["mean_val_kge"] for name in results["spread"]}
    log(f"experiment soc, {seeds} seeds: {seconds:.0f} s; mean validation KGE " +
        ", ".join(f"{n} {s['mean']:.3f} ± {s['sd']:.3f}" for n, s in spread.items()))
    return {"seeds": seeds, "runs": seeds * len(spread), "seconds": seconds, "failed": results["failed"],
            "mean_val_kge": spread, "beyond_2sd": [d for d in results["differences"] if d["beyond_2sd"]]}


def run(out: str | Path | None = None, quick: bool = False, log=print) -> dict:
    """Measure everything and write the JSON (see the issue's schema); returns the dict."""
    epochs, warmup = (4, 1) if quick else (40, 5)
    data = load_data("lucas-synthetic")
    train_rows, val_rows = split_rows(data.frame[data.id].to_numpy(), SplitConfig("site"), seed=0)
    tr, va = data.tensors(train_rows), data.tensors(val_rows)
    probe = MatmulProbe(1024 if quick else 2048)
    probe(10)
    log(f"matmul {probe.rates[0]:.1f} GFLOP/s at the start; probed again after every epoch below")
    result: dict = {"machine": {"cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads()}}
    cfg = TrainConfig(epochs=epochs, patience=10 ** 6, seed=0)
    hidden = NetworkConfig().hidden
    n_in = len(data.predictors)
    # epoch_seconds is taken before the callbacks run, so the probes are not in the epoch times
    on_epoch = [lambda row: probe(3)]

    torch.manual_seed(0)
    nn_model = NeuralNetwork(data.predictors, list(data.forcing), list(data.targets))
    nn_model.set_normalization(tr.x, tr.forcing, tr.y)
    s_nn = _epoch_seconds(train(nn_model, tr, va, cfg, callbacks=on_epoch).history, warmup)
    log(f"nn: {s_nn:.3f} s/epoch")

    spec = get_model("soc")
    ps = spec.parameters().set_roles("five_neural")
    forcing = list(spec.forcing) + list(spec.optional_forcing)
    tr_h, va_h = data.tensors(train_rows, forcing), data.tensors(val_rows, forcing)
    torch.manual_seed(0)
    hybrid = HybridModel(data.predictors, forcing, list(spec.targets), spec.function, ps, options=spec.options,
                         constraint=spec.constraint)
    hybrid.set_normalization(tr_h.x, tr_h.forcing, tr_h.y)
    s_h = _epoch_seconds(train(hybrid, tr_h, va_h, cfg, callbacks=on_epoch).history, warmup)
    log(f"hybrid_soc (five_neural): {s_h:.3f} s/epoch")

    peak = statistics.median(probe.rates)
    result["matmul_gflops"] = peak
    result["matmul_gflops_range"] = [min(probe.rates), max(probe.rates)]
    log(f"matmul peak {peak:.1f} GFLOP/s (median of {len(probe.rates)} probes, "
        f"{min(probe.rates):.0f}-{max(probe.rates):.0f})")
    flops_nn = (3 * len(tr) + len(va)) * dense_flops(n_in + len(data.forcing), hidden, len(data.targets))
    flops_h = (3 * len(tr) + len(va)) * dense_flops(n_in, hidden, len(ps.with_role("neural")))
    for key, flops, sec in (("nn", flops_nn, s_nn), ("hybrid_soc", flops_h, s_h)):
        result[key] = {"seconds_per_epoch": sec, "gflops": flops / sec / 1e9,
                       "fraction_of_peak": flops / sec / 1e9 / peak}

    s_ref = reference_epoch_seconds(data, train_rows, val_rows, epochs, warmup)
    result["reference"] = {"seconds_per_epoch": s_ref}
    result["speedup_vs_reference"] = s_ref / s_nn
    log(f"reference loop: {s_ref:.3f} s/epoch (speed-up {s_ref / s_nn:.2f})")
    result["steady_state_sites_per_second"] = steady_state_sites_per_second(data)

    # measurements that installed packages add (the dashboard: its live views)
    for entry in entry_points(group="hybridlab.benchmarks"):
        result.update(entry.load()(quick, log=log))

    result["ensemble_speedup"] = ensemble_speedup(quick, log=log, peak_gflops=peak)
    result["sweep_speedup"] = sweep_speedup(quick, log=log)
    result["map"] = None if quick else map_throughput(log=log)  # a Europe-sized grid: minutes
    result["experiment_soc"] = None if quick else experiment_soc(seeds=5, log=log)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if out:
        Path(out).write_text(json.dumps(result, indent=2))
    return result
