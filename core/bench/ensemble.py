"""``ensemble_speedup``: K members trained as one model (``train.members``) against the same K
runs trained one after another, in this process, with the same threads and epochs.

Each case trains the SOC hybrid (five_neural) or the pure network through :func:`execute`, as a
user's ``hybridlab train`` does, with patience above the epochs so that every member trains every
epoch; the times are the training loops' (``result.seconds``), data loading and evaluation left
out. Peak memory is measured in a fresh process per ensemble size (:func:`peak_rss_mb`), since a
process's peak never goes down. Each case also carries the bound that the backbone's share of an
epoch sets on the speed-up (:mod:`core.bench.ceiling`).
"""
from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys

import torch

from core.datasets import load_data
from core.run.execute import execute
from core.hybrid.network import NetworkConfig
from core.training.config import cpu_bf16_units
from core.bench.ceiling import backbone_epochs, speedup_ceiling
from core.bench.flops import dense_flops

MEMBERS = 5


def _plan(model: str, n_sites: int | None, epochs: int, seed: int, members: int, precision: str) -> dict:
    data = {"name": "lucas-synthetic"} if n_sites is None else {"name": "lucas-synthetic", "n": n_sites}
    # the cases time training: the area of applicability, measured after it, is left out
    return {"model": model, "data": data, "applicability": False,
            "train": {"epochs": epochs, "patience": epochs + 1, "seed": seed, "members": members,
                      "precision": precision}}


def _epoch_seconds(history: list[dict], warmup: int) -> float:
    rows = [r for r in history if r.get("member", 0) == 0]
    return statistics.median(r["epoch_seconds"] for r in rows[warmup:])


def _case(model: str, n_sites: int | None, precision: str, epochs: int, warmup: int, log, quick: bool) -> dict:
    """Separate runs against one ensemble run, for one model, size and precision."""
    separate = [execute(_plan(model, n_sites, epochs, seed, 1, precision)) for seed in range(MEMBERS)]
    together = execute(_plan(model, n_sites, epochs, 0, MEMBERS, precision))
    seconds_separate = sum(run.result.seconds for run in separate)
    seconds_together = together.result.seconds
    epoch_separate = statistics.mean(_epoch_seconds(run.result.history, warmup) for run in separate)
    epoch_together = _epoch_seconds(together.result.history, warmup)
    first = separate[0]
    n_train, n_val = len(first.train_rows), len(first.val_rows)
    outputs = len(first.model_config["targets"]) if model == "nn" else \
        sum(1 for p in first.model_config["parameters"] if p["role"] == "neural")
    inputs = len(first.model_config["predictors"]) + (len(first.model_config["forcing"]) if model == "nn" else 0)
    flops = (3 * n_train + n_val) * dense_flops(inputs, tuple(NetworkConfig().hidden), outputs)
    case = {"model": model, "sites": n_train + n_val, "precision": precision, "members": MEMBERS, "epochs": epochs,
            "separate_seconds": seconds_separate, "members_seconds": seconds_together,
            "speedup": seconds_separate / seconds_together,
            "separate_seconds_per_member_epoch": epoch_separate,
            "members_seconds_per_member_epoch": epoch_together / MEMBERS,
            "speedup_per_epoch": epoch_separate * MEMBERS / epoch_together,
            "separate_gflops": flops / epoch_separate / 1e9,
            "members_gflops": flops * MEMBERS / epoch_together / 1e9}
    case.update(_ceiling(inputs, outputs, n_train, n_val, precision, epoch_separate, quick))
    log(f"ensemble {model} {case['sites']} sites {precision}: {MEMBERS} runs {seconds_separate:.2f} s, "
        f"{MEMBERS} members {seconds_together:.2f} s, speed-up {case['speedup']:.2f}, per epoch "
        f"{case['speedup_per_epoch']:.2f} (ceiling about {case['speedup_ceiling']:.2f}: backbone "
        f"{case['backbone_share']:.0%} of a run's epoch, stacked backbone {case['stacked_backbone_speedup']:.2f}x)")
    return case


def _ceiling(inputs: int, outputs: int, n_train: int, n_val: int, precision: str, epoch_separate: float,
             quick: bool) -> dict:
    """The backbone's share of a run's epoch, its stacked speed-up and the bound they set
    (:mod:`core.bench.ceiling`)."""
    timing = {"min_seconds": 0.0, "repeats": 1} if quick else {}  # quick: one timed epoch each
    backbone = backbone_epochs(inputs, outputs, n_train, n_val, MEMBERS, precision=precision, **timing)
    share = min(1.0, backbone["single_seconds"] / epoch_separate)
    return {"backbone_seconds_per_epoch": backbone["single_seconds"],
            "stacked_backbone_seconds_per_epoch": backbone["stacked_seconds"],
            "backbone_share": share, "stacked_backbone_speedup": backbone["stacked_backbone_speedup"],
            "speedup_ceiling": speedup_ceiling(share, backbone["stacked_backbone_speedup"], MEMBERS)}


def peak_rss_mb(members: int, epochs: int = 3) -> dict:
    """Peak RSS (MB) of a fresh process that trains ``members`` SOC members on the full data, and
    its RSS once the data are loaded (``{"peak": ..., "before_training": ...}``)."""
    done = subprocess.run([sys.executable, "-c", f"from core.bench.ensemble import _measure; _measure({members}, {epochs})"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _memory_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS of this process in MB. The kernel starts VmHWM afresh at exec; the
    ``ru_maxrss`` of getrusage keeps the parent's RSS at fork, which hid the peak of small
    ensembles behind the benchmark's own 0.9 GB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: the best there is


def _measure(members: int, epochs: int) -> None:
    """In a process of its own: load the data, train one ensemble, print the memory as JSON."""
    load_data("lucas-synthetic")
    before = _memory_mb("VmRSS")
    execute(_plan("soc", None, epochs, 0, members, "float32"))
    print(json.dumps({"peak": _memory_mb("VmHWM"), "before_training": before}))


def ensemble_speedup(quick: bool = False, log=print, peak_gflops: float | None = None) -> dict:
    """Every case's times and speed-up, the CPU's bf16 units, and (unless quick) peak RSS at K = 1, 5, 20."""
    epochs, warmup = (3, 1) if quick else (12, 2)
    units = cpu_bf16_units()
    precisions = ["float32"] + (["bf16-mixed"] if units else [])
    rough = "; quick (3 epochs a case) is rough: a speed-up per epoch lay up to 0.42 from its ceiling (full: 0.28)"
    log(f"ensemble: CPU bf16 matrix units: {units or 'none (bf16-mixed is refused on this CPU)'}; "
        f"{torch.get_num_threads()} threads{rough if quick else ''}")
    cases = [_case("soc", None, precision, epochs, warmup, log, quick) for precision in precisions]
    cases += [_case("soc", 1000, precision, epochs * 3, warmup, log, quick) for precision in precisions]
    cases.append(_case("nn", None, "float32", epochs, warmup, log, quick))
    if peak_gflops:
        for case in cases:
            case["separate_fraction_of_peak"] = case["separate_gflops"] / peak_gflops
            case["members_fraction_of_peak"] = case["members_gflops"] / peak_gflops
    result = {"cpu_bf16_units": units, "threads": torch.get_num_threads(), "cases": cases}
    if not quick:
        memory = {str(k): peak_rss_mb(k) for k in (1, 5, 20)}
        result["peak_rss_mb"] = {k: m["peak"] for k, m in memory.items()}
        result["rss_before_training_mb"] = {k: m["before_training"] for k, m in memory.items()}
        log(f"ensemble peak RSS (MB) by members: {({k: round(v) for k, v in result['peak_rss_mb'].items()})}, "
            f"{round(memory['1']['before_training'])} MB once the data are loaded")
    return result
