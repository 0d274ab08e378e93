"""Sweep figures for ``hybridlab bench``: speed-up of the Dask executor over running the same
runs one after another, and the executor's overhead per task.

- ``sweep_speedup``: N short respiration runs on ``workers`` workers × 1 torch thread, against the
  same runs in this process, one after another, with ``workers`` torch threads. Both sides time
  the runs only (the cluster is started and warmed up before its clock starts; its start-up is
  reported as ``cluster_start_seconds``).
- ``overhead_per_task_seconds``: for runs submitted one at a time, the time from submit to result
  minus the run's own duration on the worker (median).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from core.run.execute import execute
from core.compute.executor import Executor
from core.sweep import run_tasks


def _plans(count: int, epochs: int, n_sites: int) -> list[dict]:
    return [{"model": "respiration", "data": {"name": "respiration-synthetic", "n": n_sites},
             "train": {"epochs": epochs, "patience": 10 ** 6, "seed": seed}} for seed in range(count)]


def _tasks(plans: list[dict], folder: Path, prefix: str) -> list[dict]:
    return [{"name": f"{prefix}{i}", "axes": {"configuration": prefix, "seed": i}, "plan": plan,
             "out": str(folder / f"{prefix}{i}")} for i, plan in enumerate(plans)]


def sweep_speedup(quick: bool = False, workers: int = 2, log=print) -> dict:
    """Executor vs sequential on the same runs; see the module docstring."""
    count, epochs, n_sites = (4, 15, 60) if quick else (8, 60, 150)
    plans = _plans(count, epochs, n_sites)
    threads = torch.get_num_threads()
    torch.set_num_threads(workers)
    try:
        execute(plans[0] | {"train": {**plans[0]["train"], "epochs": 1}})  # data and imports warm
        start = time.perf_counter()
        for plan in plans:
            execute(plan)
        sequential = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with Executor(workers=workers, torch_threads=1, warm=("torch", "core.sweep.task")) as executor:
            cluster_start = time.perf_counter() - start
            run_tasks(executor, _tasks(plans[:workers], Path(tmp), "warm"))  # each worker builds its data once
            start = time.perf_counter()
            rows = run_tasks(executor, _tasks(plans, Path(tmp), "run"))
            parallel = time.perf_counter() - start
            overheads = []
            for task in _tasks(_plans(3, 1, n_sites), Path(tmp), "overhead"):
                submitted = time.perf_counter()
                row = run_tasks(executor, [task])[0]
                overheads.append(time.perf_counter() - submitted - row["duration_s"])
    failed = [r["error"] for r in rows if r["status"] != "finished"]
    result = {"runs": count, "epochs": epochs, "workers": workers, "sequential_seconds": sequential,
              "executor_seconds": parallel, "speedup": sequential / parallel, "cluster_start_seconds": cluster_start,
              "overhead_per_task_seconds": statistics.median(overheads), "failed": failed}
    log(f"sweep: {count} runs sequential {sequential:.1f} s, on {workers} workers {parallel:.1f} s "
        f"(speed-up {result['speedup']:.2f}); overhead {result['overhead_per_task_seconds']:.3f} s per task")
    return result
