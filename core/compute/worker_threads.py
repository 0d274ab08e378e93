"""The torch threads of a Dask worker: set once when it starts, by the rule of :mod:`core.compute.threads`.

:func:`worker_plugin` gives the :class:`core.compute.executor.Executor` a Dask worker plugin that runs on
every worker as it starts (also one that restarts or joins later): with the count the client chose
for its embedded cluster, or, on an external cluster, with the rule applied on the worker's own
machine, the workers on its host being the trainings that run at once. Imported only where a
cluster starts (it imports Dask).
"""
from __future__ import annotations

from typing import Callable

from distributed import WorkerPlugin

from core.compute import threads

#: the threads this worker process chose when it started
_WORKER_CHOICE: list = []


class WorkerThreads(WorkerPlugin):
    """Sets the worker's torch threads in its setup. ``choice``: an embedded cluster's count; else
    the rule with ``per_host[its host]`` workers at once (``threads_given`` replaces the rule)."""

    def __init__(self, choice: threads.ThreadChoice | None = None, threads_given: int | None = None,
                 per_host: dict | None = None):
        self.choice, self.threads_given, self.per_host = choice, threads_given, per_host or {}

    def setup(self, worker) -> None:
        choice = self.choice
        if choice is None:
            trainings = self.per_host.get(worker.address.rpartition(":")[0].rpartition("/")[2], 1)
            machine = threads.Machine.read()
            # its sibling workers' threads are this cluster's trainings, not other work
            machine = threads.Machine(machine.affinity, machine.quota, max(0.0, machine.busy - (trainings - 1)))
            choice = threads.choose(trainings, self.threads_given, machine=machine, given_as="--threads-per-worker")
        threads.apply(choice)
        _WORKER_CHOICE[:] = [choice]


def worker_plugin(choice: threads.ThreadChoice | None = None, threads_given: int | None = None,
                  per_host: dict | None = None) -> WorkerThreads:
    return WorkerThreads(choice, threads_given, per_host)


def call_with_threads(function: Callable, item):
    """Runs on a worker: ``function(item)`` with the worker's torch threads (set in this thread too)."""
    if _WORKER_CHOICE:
        import torch

        torch.set_num_threads(_WORKER_CHOICE[0].threads)
    return function(item)


def worker_thread_choice(_item=None) -> dict | None:
    """Runs on a worker: the threads it chose and why (``ThreadChoice.to_dict``) and what torch reports."""
    return {**_WORKER_CHOICE[0].to_dict(), **threads.torch_threads()} if _WORKER_CHOICE else None
