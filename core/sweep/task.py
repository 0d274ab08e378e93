"""What a worker does with one task: run a plan into its run folder and return a small row.

A task is plain data (it crosses process and machine boundaries):
``{"name", "axes", "plan", "out", "torch_threads", "analysis"}``; ``analysis``, if given, is
``{"experiment", "configuration", "options"}`` and names an experiment whose ``analyse`` step
runs on the finished run before it is written. The row holds the axes, status, error, epochs,
duration, worker and the metrics flattened to columns (:func:`metrics_row`).
"""
from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path

FINISHED, FAILED = "finished", "failed"
METRIC_PARTS = ("kge", "r", "alpha", "beta", "nse", "rmse")


def metrics_row(metrics: dict) -> dict:
    """Columns from a run's metrics.json: ``{split}_{metric}_{target}``, mean_val_kge, and
    parameter recovery (``recovery_r_{p}``, ``recovery_r_val_{p}``; globals: ``learned_{p}``, ``true_{p}``)."""
    row = {"mean_val_kge": metrics.get("mean_val_kge"), "epochs": metrics.get("epochs_run"),
           "best_epoch": metrics.get("best_epoch"), "train_seconds": metrics.get("train_seconds")}
    for target, splits in (metrics.get("targets") or {}).items():
        for split in ("train", "val"):
            for part in METRIC_PARTS:
                row[f"{split}_{part}_{target}"] = (splits.get(split) or {}).get(part)
    for name, recovery in (metrics.get("parameter_recovery") or {}).items():
        if "r" in recovery:
            row[f"recovery_r_{name}"] = recovery["r"]
            row[f"recovery_r_val_{name}"] = recovery.get("r_val")
        else:
            row[f"learned_{name}"] = recovery.get("learned")
            row[f"true_{name}"] = recovery.get("true")
    for label, recovery in (metrics.get("parameter_recovery_combinations") or {}).items():
        row[f"recovery_r_log_{label}"] = recovery.get("r_log")
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _analyse(run, analysis: dict) -> None:
    from ..experiments import ExperimentOptions, get_experiment

    experiment = get_experiment(analysis["experiment"])
    if experiment.analyse is not None:
        experiment.analyse(analysis["configuration"], run, ExperimentOptions(**analysis["options"]))


def _one_line(error: BaseException) -> str:
    from ..errors import HybridlabError

    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, HybridlabError) else f"{type(error).__name__}: {text}"


def run_task(task: dict, stop_event=None) -> dict:
    """Execute one task on this process (a Dask worker, or the caller) and return its row.
    A run that fails is a row with status ``failed`` and the error in one line, not an exception.
    ``stop_event`` (a ``threading.Event``) set: the training ends after its current batch and the
    run counts as failed ("stopped"), with no folder written, so that a resume trains it again."""
    import torch

    from ..execute import execute

    torch.set_num_threads(int(task.get("torch_threads") or 1))
    start = time.perf_counter()
    row = {"name": task["name"], **task["axes"], "status": FAILED, "error": "", "worker": _worker_name(),
           "out": task["out"]}
    try:
        run = execute(task["plan"], stop_event=stop_event)
        if stop_event is not None and stop_event.is_set():
            raise InterruptedError("stopped before the end of training; no run folder written")
        if run.result.stopped == "diverged":
            raise FloatingPointError(f"training diverged: the loss was not finite at epoch {run.result.epochs_run}; "
                                     f"no model saved")
        if task.get("analysis"):
            _analyse(run, task["analysis"])
        run.save(Path(task["out"]))
        row.update(metrics_row(run.metrics), status=FINISHED)
    except Exception as error:  # noqa: BLE001 - a sweep records every failure and goes on
        row["error"] = _one_line(error)
    row["duration_s"] = time.perf_counter() - start
    return row
