"""The one executor for anything that runs more than one training: Dask distributed.

By default it starts an embedded ``LocalCluster`` of process workers, one call at a time per
worker; with a scheduler address (or the ``HYBRIDLAB_SCHEDULER`` environment variable) it submits
to an existing cluster instead. Every worker sets its torch threads once, when it starts, from
:func:`core.compute.threads.choose` with the workers on its machine as the trainings that run at once
(``torch_threads`` or ``HYBRIDLAB_THREADS`` replaces the rule); an embedded cluster's workers get
the count this process chose, with the machine read once before they start.
:meth:`Executor.map` calls a function on every item and knows nothing of what the items are; the
sweep (:mod:`core.sweep.task`) gives it its tasks, plain data in and a small row out. What a call
writes (a run folder) is written by the worker, so the workers of a cluster need storage they
share with the client.

Workers that die take their running task with them; the scheduler gives it to another worker
(up to ``distributed.scheduler.allowed-failures`` times, default 3) before it counts as failed.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Callable, Iterable, Sequence

from core.compute import threads
from core.errors import HybridlabError

SCHEDULER_ENV = "HYBRIDLAB_SCHEDULER"


def default_workers() -> int:
    """The cores this process may use."""
    return threads.affinity_cores()


#: the most worker processes, and torch threads per call, per core of this machine: beyond it an
#: embedded cluster only adds memory (about 0.3 GB a worker) and threads contend
PER_CORE_LIMIT = 4


def check_processes(workers: int | None, torch_threads: int | None) -> None:
    """Refuse, before anything starts, a worker count or a thread count that this machine cannot
    run (each at least 1 and at most :data:`PER_CORE_LIMIT` per core)."""
    most = PER_CORE_LIMIT * default_workers()
    for value, what in ((workers, "--workers"), (torch_threads, "--threads-per-worker")):
        if value is not None and value < 1:
            raise HybridlabError(f"{what} must be at least 1, got {value}")
        if value is not None and value > most:
            raise HybridlabError(f"{what} must be at most {most} ({PER_CORE_LIMIT} per core of this machine), "
                                 f"got {value}")


def _warm_up(modules: Sequence[str]) -> str:
    """Import ``modules`` on a worker before its first call (torch takes a second or two)."""
    import importlib

    for module in modules:
        importlib.import_module(module)
    return "ready"


def _worker_start_method(warm: Sequence[str]):
    """Dask's setting under which the embedded cluster starts its worker processes: where the OS
    has it, forks of a server process that has imported the engine and ``warm`` once (so a worker
    starts in a fraction of a second instead of importing torch again); else Dask's default."""
    import multiprocessing

    import dask

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return contextlib.nullcontext()
    multiprocessing.set_forkserver_preload(["core", *warm])  # no effect once the server runs
    return dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})


class Executor:
    """A Dask client: ``Executor(workers=N)`` (embedded LocalCluster) or ``Executor(scheduler=ADDRESS)``.

    Use as a context manager; :meth:`map` calls a function on items and reports each result as it
    arrives.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the embedded cluster (default: the cores).
    torch_threads : int, optional
        Torch threads of each call (default: :func:`core.compute.threads.choose` with the workers of a
        machine as the trainings at once; ``HYBRIDLAB_THREADS`` replaces it too).
    scheduler : str, optional
        Address of an existing Dask scheduler (default: ``HYBRIDLAB_SCHEDULER``, else embedded).
    retries : int
        How often a call lost with its worker is started again.
    warm : sequence of str
        Modules every worker imports before its first call.
    """

    def __init__(self, workers: int | None = None, *, torch_threads: int | None = None, scheduler: str | None = None,
                 retries: int = 1, warm: Sequence[str] = ("torch",)):
        from distributed import Client, LocalCluster

        from core.compute.worker_threads import worker_plugin

        check_processes(workers, torch_threads)
        self.thread_choice: threads.ThreadChoice | None = None  # an embedded cluster's, chosen here
        self.retries = retries
        self.scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self.cluster = None
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise HybridlabError(f"cannot reach the Dask scheduler at {self.scheduler} ({e})") from None
            plugin = worker_plugin(threads_given=torch_threads, per_host=self._workers_per_host())
        else:
            count = workers or default_workers()
            # the machine is read here, before the workers start
            self.thread_choice = threads.choose(count, torch_threads, given_as="--threads-per-worker")
            plugin = worker_plugin(self.thread_choice)
            with _worker_start_method(warm):
                self.cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR,
                                            env=threads.child_environment(self.thread_choice.threads))
            self.client = Client(self.cluster)
        self.client.register_plugin(plugin, name="hybridlab-threads")
        self.client.run(_warm_up, list(warm))

    def _workers_per_host(self) -> dict[str, int]:
        """Worker processes of the cluster on each host (the trainings that run at once there)."""
        hosts = [info["host"] for info in self.client.scheduler_info(n_workers=-1)["workers"].values()]
        return {host: hosts.count(host) for host in hosts}

    def worker_threads(self) -> list[dict]:
        """Each worker's thread choice (``ThreadChoice.to_dict`` and what torch reports there)."""
        from core.compute.worker_threads import worker_thread_choice

        return list(self.client.run(worker_thread_choice).values())

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def worker_count(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, function: Callable, items: Iterable, *, on_result: Callable | None = None,
            on_error: Callable | None = None, stop_event: threading.Event | None = None,
            name: Callable[[object], str] = lambda item: "call") -> list:
        """Call ``function(item)`` on the cluster for every item.

        Parameters
        ----------
        function : callable
            A module-level function (it is sent to the workers by reference).
        items : iterable
            Its arguments, one call each.
        on_result : callable, optional
            ``on_result(item, result)``, in the calling thread as each call finishes (also with
            ``on_error``'s value for a call that failed).
        on_error : callable, optional
            ``on_error(item, error)`` for a call that raised or was lost with its worker; what it
            returns takes the result's place (default: the error is raised).
        stop_event : threading.Event, optional
            Once set, what has not finished is cancelled and the results so far are returned.
        name : callable
            ``name(item)``: a label in the Dask task key.

        Returns
        -------
        list
            The results (and ``on_error``'s values) in the order the calls finished.
        """
        from distributed import as_completed

        from core.compute.worker_threads import call_with_threads

        futures = {}
        for item in items:
            future = self.client.submit(call_with_threads, function, item, pure=False, retries=self.retries,
                                        key=f"hybridlab-{name(item)}-{time.time_ns()}")
            futures[future] = item
        results: list = []
        finished = threading.Event()
        if stop_event is not None:
            threading.Thread(target=self._cancel_on_stop, args=(stop_event, finished, list(futures)),
                             daemon=True).start()
        try:
            for future in as_completed(list(futures)):
                if future.status != "cancelled":
                    results.append(self._collect(future, futures[future], on_result, on_error))
        finally:
            finished.set()
        return results

    def _cancel_on_stop(self, stop_event: threading.Event, finished: threading.Event, futures: list) -> None:
        """Cancel every call not finished once ``stop_event`` is set. A call already on a worker of
        an external cluster may still finish (a run folder it writes is complete; a resume picks it up)."""
        while not finished.is_set():
            if stop_event.wait(0.1):
                self.client.cancel([f for f in futures if f.status != "finished"])
                return

    @staticmethod
    def _collect(future, item, on_result, on_error):
        try:
            result = future.result()
        except Exception as error:  # noqa: BLE001 - a failed or lost call: the caller decides
            if on_error is None:
                raise
            result = on_error(item, error)
        if on_result is not None:
            on_result(item, result)
        return result

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
