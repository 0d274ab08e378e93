"""``hybridlab bench --contention``: trainings alone and beside busy processes, as a user runs them.

Each training is its own ``hybridlab train`` process (the README's respiration command at its
default size; the SOC hybrid at 2,000 sites and 30 epochs), timed from start to exit, alone and
beside 1 and 2 (``--busy``) processes that only spin (``python -c "while True: pass"``, started
before the training and killed after it). Each runs under every ``--variants`` entry:

- ``rule`` or ``cores``: threads by :func:`core.compute.threads.choose`, or as many as the cores this
  process may use (``HYBRIDLAB_THREADS`` set to them: what torch takes by default);
- ``passive`` or ``active``: OpenMP's idle threads yield (``HYBRIDLAB_OMP_PASSIVE=1``) or spin as
  OpenMP does by default (``HYBRIDLAB_OMP_PASSIVE=0``).

Measurements are interleaved (every repeat runs each condition once) so that a machine whose speed
drifts spreads the drift over all of them. Each row reports the median seconds, the slowdown against
the same variant alone and against the last variant alone (by default ``cores-active``, the behaviour
before the rule), the threads the training chose and why, and its wait policy (from its
``--verbose`` line). The JSON names the CPU.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.compute import threads
from core.errors import HybridlabError

#: the trainings: name -> ``hybridlab train`` flags (full, --quick)
TRAININGS = {
    "respiration": (["--model", "respiration"], ["--model", "respiration", "--n-sites", "20", "--epochs", "2"]),
    "soc": (["--model", "soc", "--n-sites", "2000", "--epochs", "30"],
            ["--model", "soc", "--n-sites", "500", "--epochs", "2"]),
}
VARIANTS = ("rule-passive", "rule-active", "cores-passive", "cores-active")
SPIN = "while True: pass"
THREADS_LINE = re.compile(r"threads: (\d+) intra-op, (\d+) inter-op; OpenMP wait policy (.+?); (.*)")


def _numbers(text: str, flag: str, lowest: int, highest: int) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise HybridlabError(f"{flag} expects whole numbers separated by commas, got {text[:40]!r}") from None
    if not values or any(not lowest <= v <= highest for v in values):
        raise HybridlabError(f"{flag} expects numbers from {lowest} to {highest}, got {text[:40]!r}")
    return values


def _variants(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    wrong = [name for name in names if name not in VARIANTS]
    if wrong or not names:
        raise HybridlabError(f"--variants: {(wrong or [text])[0][:40]!r} is none of {', '.join(VARIANTS)}")
    return names


def variant_environment(variant: str, environ=None) -> dict[str, str]:
    """The environment of a training under ``variant`` (see the module docstring)."""
    rule, policy = variant.split("-")
    environ = dict(os.environ if environ is None else environ)
    for name in (*threads.PASSIVE_VARIABLES, *threads.THREAD_VARIABLES, threads.THREADS_ENV):
        environ.pop(name, None)
    environ[threads.PASSIVE_ENV] = "1" if policy == "passive" else "0"
    if rule == "cores":
        environ[threads.THREADS_ENV] = str(threads.Machine(threads.affinity_cores(), threads.cgroup_quota()).usable)
    return environ


def _spinners(count: int) -> list[subprocess.Popen]:
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(count)]
    time.sleep(0.5 if count else 0)  # running before the training reads the machine
    return spinners


def _stop(spinners: list[subprocess.Popen]) -> None:
    for process in spinners:
        process.kill()
        process.wait()


def timed_training(flags: list[str], busy: int, variant: str, folder: Path) -> dict:
    """One ``hybridlab train`` beside ``busy`` spinning processes: seconds and its threads line."""
    out = folder / f"run-{time.time_ns()}"
    command = [sys.executable, "-m", "core", "train", *flags, "--out", str(out), "--quiet", "--verbose"]
    spinners = _spinners(busy)
    try:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=variant_environment(variant))
        seconds = time.perf_counter() - start
    finally:
        _stop(spinners)
    if done.returncode != 0:
        raise HybridlabError(f"contention bench: {' '.join(command[2:])} failed: {done.stderr.strip()[-300:]}")
    match = THREADS_LINE.search(done.stderr)
    return {"seconds": seconds, "threads": int(match[1]) if match else None,
            "inter_op": int(match[2]) if match else None, "wait_policy": match[3] if match else None,
            "reason": match[4] if match else None}


def _row(name: str, busy: int, variant: str, runs: list[dict]) -> dict:
    seconds = [run["seconds"] for run in runs]
    last = runs[-1]
    return {"training": name, "busy": busy, "variant": variant, "seconds": seconds,
            "median_seconds": statistics.median(seconds), "threads": last["threads"], "inter_op": last["inter_op"],
            "wait_policy": last["wait_policy"], "reason": last["reason"]}


def _slowdowns(rows: list[dict], baseline: str) -> None:
    alone = {(r["training"], r["variant"]): r["median_seconds"] for r in rows if r["busy"] == 0}
    for row in rows:
        own, base = alone.get((row["training"], row["variant"])), alone.get((row["training"], baseline))
        row["slowdown"] = row["median_seconds"] / own if own else None
        row["vs_baseline_alone"] = row["median_seconds"] / base if base else None


def contention(quick: bool = False, repeats: int = 3, busy: list[int] = (0, 1, 2),
               variants: list[str] = ("rule-active", "cores-active"), log=print) -> dict:
    """Every training x busy count x variant, ``repeats`` times, interleaved; see the module docstring."""
    busy = sorted(set(busy) | {0})
    measured: dict[tuple, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="hybridlab-contention-") as folder:
        for repeat in range(repeats):
            for name, (full, small) in TRAININGS.items():
                for count in busy:
                    for variant in variants:
                        run = timed_training(small if quick else full, count, variant, Path(folder))
                        measured.setdefault((name, count, variant), []).append(run)
                        log(f"contention {repeat + 1}/{repeats}: {name} beside {count} busy, {variant}: "
                            f"{run['seconds']:.1f} s, {run['threads']} threads, wait policy {run['wait_policy']}")
    rows = [_row(name, count, variant, runs) for (name, count, variant), runs in measured.items()]
    _slowdowns(rows, variants[-1])
    return {"repeats": repeats, "busy": busy, "variants": list(variants), "baseline": variants[-1], "quick": quick,
            "commands": {name: ["hybridlab", "train", *(small if quick else full)]
                         for name, (full, small) in TRAININGS.items()},
            "rows": rows}


def run_contention(a, log=print) -> dict:
    """``hybridlab bench --contention`` from its parsed flags: the machine and the case."""
    import torch

    if not 1 <= a.repeats <= 50:
        raise HybridlabError(f"--repeats must be between 1 and 50, got {a.repeats}")
    busy = _numbers(a.busy, "--busy", 0, 64)
    variants = _variants(a.variants)
    machine = threads.Machine.read()
    result = {"machine": {"cores": os.cpu_count(), "cpu": threads.cpu_name(), "affinity": machine.affinity,
                          "cgroup_quota": machine.quota, "busy_at_start": machine.busy, "torch": torch.__version__}}
    result["contention"] = contention(a.quick, a.repeats, busy, variants, log=log)
    return result


__all__ = ["contention", "run_contention", "timed_training", "variant_environment"]
