"""The dashboard's training pool: one per server process, shared by every session. Trainings wait
in a first-in, first-out queue for a free slot, then run on the Dask executor's workers (``hybridlab
serve``) or in threads of this process (a notebook, ``--workers 0``).

A :class:`Job` is one training, a single run or an ensemble of K members alike. It reports to its
session through ``post(news)`` (the session's inbox), news of :mod:`app.training.news`:
:class:`Queued` (place, length, seconds until it starts), :class:`Started`, then the runner's
(:class:`Loaded`, :class:`Epoch`, :class:`Snapshot`, :class:`Stopped`) and finally an
:class:`End`: :class:`Finished` with the run, :class:`Cancelled` or :class:`Failed`. A job may
carry a ``call`` instead, a function and its item (a sweep task and ``core.sweep.run_task``, as
the role search sends through :class:`app.training.pool_executor.PoolExecutor`): it ends with
:class:`Returned` and the function's result.
One dispatcher thread makes every call to Dask, so sessions never wait on the cluster.
"""
from __future__ import annotations

import collections
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable


import core
from core.compute import SCHEDULER_ENV

from app.limits import ServerLimits
from app.training.news import Cancelled, End, Failed, Finished, News, Queued, Returned, Started
from app.training.runners import DaskRunner, ThreadRunner

TICK = 0.1  # s between the dispatcher's rounds


@dataclass(eq=False)
class Job:
    """One training asked for by a session: its plan (a dict; None for a call) and where its news go."""

    owner: str
    plan: dict | None
    post: Callable[[News], None]
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: jobs of one group (an ensemble and its twins, a role search's runs) count once against the per-user limit
    group: str = ""
    #: (function, item): ``function(item, stop_event)`` runs instead of a live training of ``plan``
    call: tuple[Callable, object] | None = None
    state: str = "queued"  # queued | running | done
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


class TrainingPool:
    """FIFO queue in front of ``runner.capacity`` training slots (a thread or a Dask worker each)."""

    def __init__(self, runner, limits: ServerLimits | None = None):
        self.runner, self.limits = runner, limits or ServerLimits()
        self.capacity = max(1, min(runner.capacity, self.limits.trainings))
        self._lock = threading.Condition()
        self._queue: collections.deque[Job] = collections.deque()
        self._running: list[Job] = []
        self._durations: collections.deque[float] = collections.deque(maxlen=20)
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, daemon=True, name="hybridlab-pool")
        self._thread.start()

    # -- called by sessions (any thread) -----------------------------------------------------------
    def submit(self, owner: str, plan: dict | None, post: Callable[[News], None], group: str | None = None,
               call: tuple[Callable, object] | None = None) -> Job:
        """Queue a training; HybridlabError when ``owner`` already has its share running or waiting.
        ``group``: jobs that count as one against that share (an ensemble's twins, the next run of
        a role search): a job of a group that has jobs queued or running is always taken."""
        with self._lock:
            groups = {job.group for job in [*self._queue, *self._running] if job.owner == owner}
            if group not in groups and len(groups) >= self.limits.trainings_per_session:
                raise core.HybridlabError(f"you already have {len(groups)} training(s) running or queued, this "
                                          "server's limit per user; stop one first")
            job = Job(owner, plan, post, call=call)
            job.group = group or job.id
            self._queue.append(job)
            self._announce()
            self._lock.notify()
        return job

    def cancel(self, job: Job) -> None:
        """Stop ``job``: a queued one is dropped at once, a running one ends after its current batch."""
        with self._lock:
            if job in self._queue:
                self._queue.remove(job)
                self._finish(job, Cancelled())
                self._announce()
            elif job.state == "running":
                job.stop.set()
            self._lock.notify()

    def status(self) -> dict:
        with self._lock:
            return {"capacity": self.capacity, "running": len(self._running), "queued": len(self._queue)}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for job in [*self._queue, *self._running]:
                job.stop.set()
            self._lock.notify()
        self._thread.join(10)
        self.runner.close()

    # -- the dispatcher thread ---------------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            with self._lock:
                self._lock.wait(TICK)
                if self._closed:
                    return
                starting = []
                while self._queue and len(self._running) < self.capacity:
                    job = self._queue.popleft()
                    job.state, job.started = "running", time.monotonic()
                    self._running.append(job)
                    starting.append(job)
                if starting:
                    self._announce()
                running = list(self._running)
            for job in starting:
                job.post(Started())
                failure = self._guarded(job, self.runner.start)
                if failure is not None:
                    self._end(job, failure)
            for job in running:
                outcome = self._guarded(job, self.runner.poll)  # forwards news; the End when done
                if outcome is not None:
                    self._end(job, outcome)

    def _end(self, job: Job, outcome: End) -> None:
        with self._lock:
            self._running.remove(job)
            if isinstance(outcome, (Finished, Returned)):
                self._durations.append(time.monotonic() - job.started)
            self._finish(job, outcome)
            self._announce()

    def _guarded(self, job: Job, step):
        """``step(job)``; a failure ends that job with one line, and the dispatcher goes on."""
        try:
            return step(job)
        except Exception as e:
            job.stop.set()
            return Failed(f"training failed: {type(e).__name__}: {e}")

    def _finish(self, job: Job, end: End) -> None:
        job.state = "done"
        job.post(end)
        job.finished.set()

    def _announce(self) -> None:
        """Tell each waiting session its place and about when it starts (the lock is held)."""
        typical = statistics.median(self._durations) if self._durations else None
        for index, job in enumerate(self._queue):
            rounds = index // self.capacity + 1
            wait = None if typical is None else rounds * typical
            job.post(Queued(index + 1, len(self._queue), wait))


_server: dict = {}
_server_lock = threading.Lock()


def server_pool(limits: ServerLimits | None = None) -> TrainingPool:
    """The process's pool (made on first use). ``HYBRIDLAB_WORKERS`` > 0 or ``HYBRIDLAB_SCHEDULER``
    runs trainings on Dask (``hybridlab serve`` sets them); otherwise in threads of this process."""
    import os

    with _server_lock:
        if "pool" not in _server:
            limits = limits or ServerLimits.from_environment()
            workers = int(os.environ.get("HYBRIDLAB_WORKERS") or 0)
            scheduler = os.environ.get(SCHEDULER_ENV)
            runner = DaskRunner(workers, scheduler) if workers or scheduler else ThreadRunner(limits.trainings)
            _server["pool"] = TrainingPool(runner, limits)
    return _server["pool"]
