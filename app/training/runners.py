"""Where the pool's trainings run: threads of this process (:class:`ThreadRunner`) or Dask workers
(:class:`DaskRunner`). Both call :func:`train`, which turns a plan (a single run or an ensemble of
K members: one job either way) into a finished run through ``core.run.execute`` and reports as it
goes. A runner's ``poll(job)`` forwards the news that arrived and returns the job's
:class:`~app.training.news.End` once it is over; only the pool's dispatcher thread calls a runner."""
from __future__ import annotations

import dataclasses
import os
import threading
import time

import core
from core import load_plan_data
from core.compute import Executor

from app.training.analysis import DerivedResults
from app.training.news import End, Epoch, Failed, Finished, Loaded, News, Returned, from_wire, to_wire
from app.training.observer import LiveObserver, training_threads

#: a worker batches history rows and sends them at most this often (s)
SEND_INTERVAL = 0.2


def train(plan: dict, post, stop_event: threading.Event, send_data: bool = True) -> End:
    """Run ``plan`` with live news to ``post``; returns :class:`Finished` (the run) or
    :class:`Failed` (one line, never a traceback)."""
    observer = LiveObserver(post, send_data=send_data, stop_event=stop_event)
    try:
        run = core.execute(plan, observer=observer, stop_event=stop_event)
        return Finished(run, DerivedResults.for_run(run))
    except core.HybridlabError as e:
        return Failed(f"cannot train: {e}")
    except Exception as e:  # shown as one line in the page, never a traceback
        return Failed(f"training failed: {type(e).__name__}: {e}")


def run_call(function, item, stop_event: threading.Event) -> End:
    """A pool job that carries a call: ``function(item, stop_event)``; :class:`Returned` with its
    result, or :class:`Failed` with the error in one line."""
    try:
        return Returned(function(item, stop_event))
    except Exception as e:  # noqa: BLE001 - the caller's on_error decides; one line, never a traceback
        return Failed(f"{type(e).__name__}: {' '.join(str(e).split())}")


class ThreadRunner:
    """Each training in a thread of this process (one person, a notebook, or ``--workers 0``)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._threads: dict[str, tuple[threading.Thread, list]] = {}

    def start(self, job) -> None:
        outcome: list[End] = []

        def work():
            import torch

            torch.set_num_threads(training_threads(self.capacity))
            outcome.append(run_call(*job.call, job.stop) if job.call else train(job.plan, job.post, job.stop))

        thread = threading.Thread(target=work, daemon=True, name=f"hybridlab-train-{job.id}")
        self._threads[job.id] = (thread, outcome)
        thread.start()

    def poll(self, job) -> End | None:
        thread, outcome = self._threads[job.id]
        if thread.is_alive():
            return None
        del self._threads[job.id]
        return outcome[0] if outcome else Failed("training failed without a result")

    def close(self) -> None:
        for thread, _ in list(self._threads.values()):
            thread.join(10)


#: scheduling priority of a worker process that trains for the dashboard (``nice``): on a server
#: whose cores all train, the web server still answers clicks and opens pages first
WORKER_NICENESS = 10


def lower_priority(niceness: int = WORKER_NICENESS) -> None:
    """Make this process at least ``niceness`` nice (a no-op where it already is, or on Windows)."""
    if hasattr(os, "nice"):
        current = os.nice(0)
        if current < niceness:
            os.nice(niceness - current)


def _watch(remote_stop, stop: threading.Event) -> None:
    """Set ``stop`` once the Dask event ``remote_stop`` is set (checked every SEND_INTERVAL)."""
    while not stop.is_set():
        if remote_stop.wait(SEND_INTERVAL):
            stop.set()


def call_on_worker(function, item, stop_name: str) -> End:
    """Runs on a Dask worker: a call (at lower priority); the Dask event ``stop_name`` sets its stop event."""
    from distributed import Event

    lower_priority()
    stop = threading.Event()
    threading.Thread(target=_watch, args=(Event(stop_name), stop), daemon=True).start()
    try:
        return run_call(function, item, stop)
    finally:
        stop.set()


def train_on_worker(plan: dict, queue_name: str, stop_name: str) -> End:
    """Runs on a Dask worker: news go to the Dask queue ``queue_name`` as plain data
    (:func:`~app.training.news.to_wire`; a snapshot's tables through Dask's serialisation), a
    list at a time: epochs are batched and sent every :data:`SEND_INTERVAL`, or with the next
    other news. The Dask event ``stop_name`` stops the training after its current batch. The
    worker process runs at a lower priority than the web server (:func:`lower_priority`)."""
    from distributed import Event, Queue
    from distributed.protocol import to_serialize

    lower_priority()
    queue, remote_stop, stop = Queue(queue_name), Event(stop_name), threading.Event()
    waiting: list[dict] = []
    last_sent = [0.0]

    def send() -> None:
        queue.put(waiting[:])
        waiting.clear()
        last_sent[0] = time.monotonic()

    def post(news: News) -> None:
        waiting.append(to_wire(news, to_serialize))
        if not isinstance(news, Epoch) or time.monotonic() - last_sent[0] > SEND_INTERVAL:
            send()

    threading.Thread(target=_watch, args=(remote_stop, stop), daemon=True).start()
    try:
        outcome = train(plan, post, stop, send_data=False)
        if waiting:  # the last epochs, not yet sent
            send()
        return outcome
    finally:
        stop.set()


class DaskRunner:
    """Each training as a task on a Dask worker (one at a time per worker), through
    :class:`core.compute.executor.Executor`: an embedded LocalCluster of ``workers`` processes, or the
    cluster at ``scheduler``."""

    def __init__(self, workers: int, scheduler: str | None = None):
        self.executor = Executor(workers=workers or None, scheduler=scheduler, warm=("torch", "core.sweep"))
        self.client = self.executor.client
        self.capacity = sum(w["nthreads"] for w in self.client.scheduler_info(n_workers=-1)["workers"].values())
        self._jobs: dict[str, dict] = {}

    def start(self, job) -> None:
        from distributed import Event, Queue

        names = f"hybridlab-live-{job.id}", f"hybridlab-stop-{job.id}"
        entry = {"stop": Event(names[1], client=self.client), "stop_sent": False, "queue": None, "data": None}
        if job.call:
            entry["future"] = self.client.submit(call_on_worker, *job.call, names[1], key=f"hybridlab-call-{job.id}",
                                                 pure=False)
            self._jobs[job.id] = entry
            return
        entry["future"] = self.client.submit(train_on_worker, job.plan, *names, key=f"hybridlab-train-{job.id}",
                                             pure=False)
        entry["queue"] = Queue(names[0], client=self.client)
        self._jobs[job.id] = entry
        # the page's views need the data: loaded here (built-in sets are cached per process) and
        # handed on with the worker's Loaded
        entry["data"] = load_plan_data(core.RunPlan.from_dict(job.plan))

    def _forward(self, job, entry: dict) -> None:
        if entry["queue"] is None:  # a call sends no news on the way
            return
        for batch in entry["queue"].get(batch=True):
            for item in batch:
                news = from_wire(item)
                job.post(dataclasses.replace(news, data=entry["data"]) if isinstance(news, Loaded) else news)

    def poll(self, job) -> End | None:
        entry = self._jobs[job.id]
        if job.stop.is_set() and not entry["stop_sent"]:
            entry["stop"].set()
            entry["stop_sent"] = True
        self._forward(job, entry)
        future = entry["future"]
        if not future.done():
            return None
        del self._jobs[job.id]
        self._forward(job, entry)
        try:
            outcome = future.result()
        except Exception as e:  # a lost worker or an error outside train(): one line
            outcome = Failed(f"training failed: {type(e).__name__}: {e}")
        if entry["queue"] is not None:
            entry["queue"].close()
        entry["stop"].clear()
        return outcome

    def close(self) -> None:
        self.executor.close()
