"""The server's training pool seen as a core executor: :meth:`PoolExecutor.map` has the signature
of :meth:`core.executor.Executor.map`, so ``core.run_sweep`` and ``core.roles.run_role_search``
run through it. Each sweep task becomes a pool job of one group, so a role search started from a
page waits in the same first-in, first-out queue as everyone's trainings, on the same Dask workers
(or threads), and counts once against its user's share.
"""
from __future__ import annotations

import functools
import queue
import threading
import uuid
from typing import Callable, Iterable

from core.sweep.task import FAILED

from .pool import Job, TrainingPool

#: how often (s) map looks at the stop event while it waits
POLL = 0.1


class PoolExecutor:
    """Submit sweep tasks to ``pool`` for ``owner``; :attr:`jobs` are those of the current map
    (their ``state`` tells how many wait, run or are done)."""

    def __init__(self, pool: TrainingPool, owner: str):
        self.pool, self.owner = pool, owner
        self.group = f"tasks-{uuid.uuid4().hex[:12]}"
        self.jobs: list[Job] = []

    def counts(self) -> dict[str, int]:
        """How many runs of the current map are queued, running and done."""
        states = [job.state for job in list(self.jobs)]
        return {state: states.count(state) for state in ("queued", "running", "done")}

    def map(self, tasks: Iterable[dict], on_row: Callable[[dict], None] | None = None,
            stop_event: threading.Event | None = None) -> list[dict]:
        """Run every task on the pool; ``on_row(row)`` in this thread as each ends. ``stop_event``
        set: queued runs are cancelled at once, running ones end after their current batch (as
        failed rows, "stopped"), and the rows so far are returned. Raises HybridlabError when the
        owner is at the server's limit."""
        arrived: queue.Queue = queue.Queue()
        self.jobs = []
        try:
            for task in tasks:
                self.jobs.append(self.pool.submit(self.owner, task["plan"], functools.partial(self._post, arrived, task),
                                                  group=self.group, task=task))
        except Exception:
            self.cancel()
            raise
        rows: list[dict] = []
        while len(rows) < len(self.jobs):
            if stop_event is not None and stop_event.is_set():
                self.cancel()
            try:
                row = arrived.get(timeout=POLL)
            except queue.Empty:
                continue
            rows.append(row)
            if on_row is not None:
                on_row(row)
        return rows

    def cancel(self) -> None:
        for job in self.jobs:
            if job.state != "done":
                self.pool.cancel(job)

    @staticmethod
    def _post(arrived: queue.Queue, task: dict, **items) -> None:
        """A job's news (the pool's thread): only its end matters, as a sweep row."""
        if "done" not in items:
            return
        row = items.get("task_row")
        if row is None:
            message = items.get("message") or items["done"]
            row = {"name": task["name"], **task["axes"], "status": FAILED, "out": task["out"], "error": message}
        arrived.put(row)
