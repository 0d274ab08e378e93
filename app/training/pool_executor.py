"""The server's training pool seen as a core executor: :meth:`PoolExecutor.map` has the signature
of :meth:`core.compute.executor.Executor.map`, so ``core.sweep.run_sweep`` and ``core.roles.run_role_search``
run through it. Each call becomes a pool job of one group, so a role search started from a page
waits in the same first-in, first-out queue as everyone's trainings, on the same Dask workers (or
threads), and counts once against its user's share.
"""
from __future__ import annotations

import functools
import queue
import threading
import uuid
from typing import Callable, Iterable

from app.training.news import End, News, Returned
from app.training.pool import Job, TrainingPool

#: how often (s) map looks at the stop event while it waits
POLL = 0.1


class PoolExecutor:
    """Submit calls to ``pool`` for ``owner``; :attr:`jobs` are those of the current map (their
    ``state`` tells how many wait, run or are done)."""

    def __init__(self, pool: TrainingPool, owner: str):
        self.pool, self.owner = pool, owner
        self.group = f"calls-{uuid.uuid4().hex[:12]}"
        self.jobs: list[Job] = []

    def counts(self) -> dict[str, int]:
        """How many calls of the current map are queued, running and done."""
        states = [job.state for job in list(self.jobs)]
        return {state: states.count(state) for state in ("queued", "running", "done")}

    def map(self, function: Callable, items: Iterable, *, on_result: Callable | None = None,
            on_error: Callable | None = None, stop_event: threading.Event | None = None,
            name: Callable[[object], str] = lambda item: "call") -> list:
        """Call ``function(item, stop_event)`` on the pool for every item; ``on_result(item, result)``
        in this thread as each ends (``on_error(item, message)``'s value for one that failed or was
        cancelled). ``stop_event`` set: queued calls are cancelled at once, running ones see their
        stop event (a sweep task ends after its current batch). Returns the results so far. Raises
        HybridlabError when the owner is at the server's limit."""
        arrived: queue.Queue = queue.Queue()
        self.jobs = []
        try:
            for item in items:
                post = functools.partial(self._post, arrived, item)
                self.jobs.append(self.pool.submit(self.owner, None, post, group=self.group, call=(function, item)))
        except Exception:
            self.cancel()
            raise
        results: list = []
        while len(results) < len(self.jobs):
            if stop_event is not None and stop_event.is_set():
                self.cancel()
            try:
                item, end = arrived.get(timeout=POLL)
            except queue.Empty:
                continue
            if isinstance(end, Returned):
                result = end.result
            elif on_error is not None:
                result = on_error(item, end.message)
            else:
                raise RuntimeError(end.message)
            results.append(result)
            if on_result is not None:
                on_result(item, result)
        return results

    def cancel(self) -> None:
        for job in self.jobs:
            if job.state != "done":
                self.pool.cancel(job)

    @staticmethod
    def _post(arrived: queue.Queue, item, news: News) -> None:
        """A job's news (the pool's thread): only its end matters."""
        if isinstance(news, End):
            arrived.put((item, news))
