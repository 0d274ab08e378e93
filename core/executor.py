"""The one executor for anything that runs more than one training: Dask distributed.

By default it starts an embedded ``LocalCluster`` of process workers, one run at a time per
worker with ``torch_threads`` torch threads each (default 1); with a scheduler address (or the
``HYBRIDLAB_SCHEDULER`` environment variable) it submits to an existing cluster instead. A task is
plain data in (:mod:`core.sweep.task`) and a small row out; the run folder is written by the
worker, so the workers of a cluster need storage they share with the client.

Workers that die take their running task with them; the scheduler gives it to another worker
(up to ``distributed.scheduler.allowed-failures`` times, default 3) before it counts as failed.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Callable, Iterable

from .errors import HybridlabError

SCHEDULER_ENV = "HYBRIDLAB_SCHEDULER"
#: environment of LocalCluster worker processes: one BLAS/OpenMP thread unless torch_threads says more
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _warm_up() -> str:
    """Import the engine on a worker before its first task (torch takes a second or two)."""
    import importlib

    for module in ("torch", "core.execute", "core.sweep.task"):
        importlib.import_module(module)
    return "ready"


class Executor:
    """A Dask client: ``Executor(workers=N)`` (embedded LocalCluster) or ``Executor(scheduler=ADDRESS)``.

    Use as a context manager; :meth:`map` runs tasks and reports each row as it arrives.
    """

    def __init__(self, workers: int | None = None, torch_threads: int = 1, scheduler: str | None = None,
                 retries: int = 1):
        from distributed import Client, LocalCluster

        self.torch_threads = int(torch_threads)
        self.retries = retries
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self.cluster = None
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise HybridlabError(f"cannot reach the Dask scheduler at {self.scheduler} ({e})") from None
        else:
            env = {name: str(self.torch_threads) for name in THREAD_VARIABLES}
            self.cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR, env=env)
            self.client = Client(self.cluster)
        self.client.run(_warm_up)

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def worker_count(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, tasks: Iterable[dict], on_row: Callable[[dict], None] | None = None,
            stop_event: threading.Event | None = None) -> list[dict]:
        """Run every task (see :func:`core.sweep.task.run_task`); call ``on_row`` with each row as it
        finishes, in the calling thread. ``stop_event`` set: cancel what has not finished and return
        the rows so far."""
        from distributed import as_completed

        from .sweep.task import run_task

        tasks = list(tasks)
        futures = {}
        for task in tasks:
            task = {**task, "torch_threads": task.get("torch_threads") or self.torch_threads}
            future = self.client.submit(run_task, task, key=f"hybridlab-run-{task['name']}-{time.time_ns()}",
                                        pure=False, retries=self.retries)
            futures[future] = task
        rows: list[dict] = []
        finished = threading.Event()
        if stop_event is not None:
            threading.Thread(target=self._cancel_on_stop, args=(stop_event, finished, list(futures)),
                             daemon=True).start()
        try:
            for future in as_completed(list(futures)):
                if future.status != "cancelled":
                    self._collect(future, futures[future], rows, on_row)
        finally:
            finished.set()
        return rows

    def _cancel_on_stop(self, stop_event: threading.Event, finished: threading.Event, futures: list) -> None:
        """Cancel every run not finished once ``stop_event`` is set. A run already on a worker of an
        external cluster may still finish and write its (complete) folder; a resume picks it up."""
        while not finished.is_set():
            if stop_event.wait(0.1):
                self.client.cancel([f for f in futures if f.status != "finished"])
                return

    @staticmethod
    def _collect(future, task: dict, rows: list[dict], on_row) -> None:
        from .sweep.task import FAILED

        try:
            row = future.result()
        except Exception as error:  # noqa: BLE001 - a lost worker or task: record it
            row = {"name": task["name"], **task["axes"], "status": FAILED, "out": task["out"],
                   "error": f"{type(error).__name__}: {' '.join(str(error).split())}"}
        rows.append(row)
        if on_row is not None:
            on_row(row)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
