"""Live reports from a training: :class:`LiveObserver` hands a run's progress, as news
(:mod:`app.training.news`), to a ``post(news)`` function (a session's inbox, or a Dask queue when
the training runs on a worker), and
:class:`SnapshotPacer` decides how often the page gets a snapshot (an evaluation of every site)."""
from __future__ import annotations

import math
import os
import threading
import time

import numpy as np

import core

from app.training.news import Epoch, Loaded, Snapshot, Stopped

#: live views: the fastest refresh they need (s), and the share of training time they may take
SNAPSHOT_INTERVAL = 0.5
SNAPSHOT_BUDGET = 0.04


class SnapshotPacer:
    """When the next snapshot is due. A snapshot costs about a third of an epoch on the LUCAS-like
    data; waiting ``cost * (1 - budget) / budget`` after one keeps their share of the wall time at
    ``budget``, and ``interval`` is the shortest wait. ``cost`` is the median of the last five, so
    one snapshot that the page's server thread slowed down does not freeze the views."""

    def __init__(self, interval: float = SNAPSHOT_INTERVAL, budget: float = SNAPSHOT_BUDGET):
        if not 0 < budget <= 1:
            raise core.HybridlabError(f"snapshot budget must be in (0, 1], got {budget}")
        self.interval, self.budget = interval, budget
        self.next_at = -math.inf
        self.costs: list[float] = []

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def record(self, start: float, end: float) -> None:
        self.costs = self.costs[-4:] + [end - start]
        cost = float(np.median(self.costs))
        self.next_at = end + max(self.interval, cost * (1 - self.budget) / self.budget)


class LiveObserver(core.RunObserver):
    """Hands a run's progress to a ``post(news)`` function: :class:`Loaded` with the data at the
    start (without them when ``send_data`` is False: the receiver loads them itself), an
    :class:`Epoch` per history row, paced :class:`Snapshot` s, :class:`Stopped` once the training
    has seen ``stop_event``, and at the end a snapshot of the kept weights."""

    def __init__(self, post, pacer: SnapshotPacer | None = None, send_data: bool = True,
                 stop_event: threading.Event | None = None):
        self.post, self.pacer = post, pacer or SnapshotPacer()
        self.send_data, self.stop_event = send_data, stop_event

    def on_start(self, context: core.RunContext) -> None:
        self.post(Loaded(context.data if self.send_data else None))

    def on_epoch(self, row: dict, context: core.RunContext) -> None:
        # when the epoch ended (s since the epoch, this machine's clock): how far behind the page is
        self.post(Epoch({**row, "produced_at": time.time()}))
        if self.stop_event is not None and self.stop_event.is_set():
            self.post(Stopped())  # the training ends after this epoch's batch
            return
        start = time.perf_counter()
        if self.pacer.due(start):
            self.post(Snapshot(context.snapshot(row["epoch"])))
            self.pacer.record(start, time.perf_counter())

    def on_finish(self, run: core.Run, context: core.RunContext) -> None:
        self.post(Snapshot(run.final_snapshot()))


def training_threads(trainings: int = 1) -> int:
    """Torch threads for each of ``trainings`` trainings in threads of the server: the one rule
    (:func:`core.compute.threads.choose`; the page's server thread, when it works, counts as busy).
    ``HYBRIDLAB_TORCH_THREADS``, the older name of ``HYBRIDLAB_THREADS``, still counts."""
    from core.compute import threads

    environ = os.environ
    if environ.get("HYBRIDLAB_TORCH_THREADS") and not environ.get(threads.THREADS_ENV):
        environ = {**environ, threads.THREADS_ENV: environ["HYBRIDLAB_TORCH_THREADS"]}
    return threads.choose(trainings, environ=environ).threads
