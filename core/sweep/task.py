"""What a worker does with one task: run a plan into its run folder and return a small row.

A task is plain data (it crosses process and machine boundaries): ``{"name", "axes", "plan",
"out", "analysis"}``, and for an ensemble run that stands for several sweep runs (packed seeds)
``"members"``: a list of ``{"name", "axes"}``, one per member, each of which gets its own row
(``run``: the folder's name, ``member``: its index) from that member's metrics. ``analysis``, if given, is ``{"hook": "module:function", "arguments": {...}}``:
a function named by its import path (an experiment's ``analyse`` step), called as
``function(run, **arguments)`` on the finished run before it is written. The sweep does not know
what the hook is; whoever builds the tasks does. The row holds the axes, status, error, epochs,
duration, worker and the metrics flattened to columns (:func:`metrics_row`); :func:`failure_row`
is the row of a task that did not finish, wherever it failed.
"""
from __future__ import annotations

import importlib
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Callable

from core.errors import HybridlabError
from core.run.execute import execute

FINISHED, FAILED = "finished", "failed"
METRIC_PARTS = ("kge", "r", "alpha", "beta", "nse", "rmse", "picp", "interval_width", "crps", "mc_dropout_picp",
                "mc_dropout_interval_width", "mc_dropout_crps")


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


def failure_row(task: dict, error: BaseException | str) -> dict | list[dict]:
    """The row of a task that did not finish (a row per member for a packed task): its name, axes
    and folder, status ``failed`` and the error in one line (a HybridlabError's message as it is;
    other errors with their type)."""
    if task.get("members"):
        return [{**failure_row({**task, **member, "members": None}, error), "run": task["name"], "member": k}
                for k, member in enumerate(task["members"])]
    return {"name": task["name"], **task["axes"], "status": FAILED, "out": task["out"], "error": one_line(error)}


def one_line(error: BaseException | str) -> str:
    """An error as one line of text."""
    if isinstance(error, str):
        return " ".join(error.split())
    text = " ".join(str(error).split()) or type(error).__name__
    return text if isinstance(error, HybridlabError) else f"{type(error).__name__}: {text}"


def _analyse(run, analysis: dict) -> None:
    module, _, attribute = analysis["hook"].partition(":")
    hook = getattr(importlib.import_module(module), attribute)
    hook(run, **analysis.get("arguments", {}))


def run_task(task: dict, stop_event: threading.Event | None = None) -> dict | list[dict]:
    """Execute one task on this process (a Dask worker, a thread of the dashboard, the caller) and
    return its row (a row per member for a packed task). A run that fails is a row with status
    ``failed`` and the error in one line, not an exception. ``stop_event`` set: the training ends
    after its current batch and the run counts as failed ("stopped"), with no folder written, so
    that a resume trains it again."""
    start = time.perf_counter()
    row = {"name": task["name"], **task["axes"], "status": FAILED, "error": "", "worker": _worker_name(),
           "out": task["out"]}
    try:
        run = execute(task["plan"], stop_event=stop_event)
        if stop_event is not None and stop_event.is_set():
            raise InterruptedError("stopped before the end of training; no run folder written")
        if task.get("analysis"):
            _analyse(run, task["analysis"])
        run.save(Path(task["out"]))
        if task.get("members"):
            return member_rows(task, run.metrics, worker=row["worker"], seconds=time.perf_counter() - start)
        row.update(metrics_row(run.metrics), status=FINISHED)
    except Exception as error:  # noqa: BLE001 - a sweep records every failure and goes on
        if task.get("members"):
            return [{**r, "worker": row["worker"], "duration_s": time.perf_counter() - start}
                    for r in failure_row(task, error)]
        row["error"] = one_line(error)
    row["duration_s"] = time.perf_counter() - start
    return row


def member_rows(task: dict, metrics: dict, worker: str = "", seconds: float | None = None) -> list[dict]:
    """One row per member of a packed task's ensemble run (from its metrics.json); a member that
    diverged is a failed row with its error."""
    finished = {entry["member"]: entry for entry in metrics.get("members") or []}
    failed = {entry["member"]: entry for entry in metrics.get("failed_members") or []}
    rows = []
    for k, member in enumerate(task["members"]):
        row = {"name": member["name"], **member["axes"], "status": FAILED, "error": "", "worker": worker,
               "out": task["out"], "run": task["name"], "member": k,
               "duration_s": seconds / len(task["members"]) if seconds is not None else None}
        if k in finished:
            row.update(metrics_row(finished[k]), status=FINISHED)
        else:
            row["error"] = (failed.get(k) or {}).get("error", "not in the ensemble's metrics")
        rows.append(row)
    return rows


def task_name(task: dict) -> str:
    """The task's label in the executor's keys."""
    return f"run-{task['name']}"


def run_tasks(executor, tasks: list[dict], *, on_row: Callable[[dict], None] | None = None,
              stop_event: threading.Event | None = None) -> list[dict]:
    """Every task through ``executor`` (a :class:`core.compute.executor.Executor`, or anything with its
    ``map``, such as the dashboard's training pool); ``on_row(row)`` as each ends, a lost task
    included (:func:`failure_row`); a packed task gives a row per member. Returns the rows in the
    order they finished."""
    def rows_of(result) -> list[dict]:
        return result if isinstance(result, list) else [result]

    def arrived(task: dict, result) -> None:
        for row in rows_of(result):
            on_row(row)

    results = executor.map(run_task, tasks, on_result=arrived if on_row else None, on_error=failure_row,
                           stop_event=stop_event, name=task_name)
    return [row for result in results for row in rows_of(result)]
