"""One training at a time per browser session, in a background thread, followed through
:meth:`TrainingSession.sync`.

The training thread never touches the session's parameters: :class:`LiveObserver` writes into a
lock-protected inbox, and ``sync``, called by the page's periodic callback in the session's own
thread, moves what arrived into the parameters. How often the page gets a snapshot of the model
(an evaluation of every site) is decided here, by :class:`SnapshotPacer`.
"""
from __future__ import annotations

import math
import os
import threading
import time

import numpy as np
import param

import core

from .analysis import DerivedResults
from .limits import ServerLimits, TrainingSlots

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
    """Hands a run's progress to a ``post(**items)`` function: data at the start, every history
    row, paced snapshots, and at the end a snapshot of the kept weights and the finished run."""

    def __init__(self, post, pacer: SnapshotPacer | None = None):
        self.post, self.pacer = post, pacer or SnapshotPacer()

    def on_start(self, context: core.RunContext) -> None:
        self.post(data=context.data, message="training")

    def on_epoch(self, row: dict, context: core.RunContext) -> None:
        self.post(row=row)
        start = time.perf_counter()
        if self.pacer.due(start):
            self.post(snapshot=context.snapshot(row["epoch"]))
            self.pacer.record(start, time.perf_counter())

    def on_finish(self, run: core.Run, context: core.RunContext) -> None:
        self.post(snapshot=run.final_snapshot())


def training_threads() -> int:
    """Torch threads for a training in the server: leave a core to the page's server thread (on 2
    cores, 1 training thread trained faster in the dashboard than 2 that fought the server)."""
    return int(os.environ.get("HYBRIDLAB_TORCH_THREADS") or max(1, (os.cpu_count() or 2) - 1))


class TrainingSession(param.Parameterized):
    """One training run at a time in a background thread, followed through :meth:`sync`."""

    status = param.Selector(default="idle", objects=["idle", "training", "stopping", "finished", "error"])
    message = param.String(default="")
    epoch = param.Integer(default=0)
    max_epochs = param.Integer(default=1)
    best_val_loss = param.Number(default=None, allow_None=True)
    best_epoch = param.Integer(default=0)
    seconds_left = param.Number(default=None, allow_None=True)
    history = param.List(default=[])
    snapshot = param.Parameter(default=None, doc="latest core.Snapshot")
    run = param.Parameter(default=None, doc="the finished core.Run")
    data = param.Parameter(default=None, doc="the data being trained on")
    spec = param.Parameter(default=None, doc="the core.ModelSpec being trained")
    label = param.String(default="")
    derived = param.Parameter(default=None, doc="DerivedResults of a finished run whose model derives quantities")
    syncs = param.Integer(default=0, doc="how many times new results reached the page")
    slots = param.ClassSelector(class_=TrainingSlots, doc="the server's training slots (one per process)")
    owner = param.String(default="", doc="whose slots a training takes: the signed-in user, else this session")

    def __init__(self, **params):
        params.setdefault("slots", TrainingSlots(ServerLimits()))
        params.setdefault("owner", f"session-{id(self)}")
        super().__init__(**params)
        self._lock = threading.Lock()
        self._inbox: dict = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, setup) -> bool:
        """Validate the set-up and start training; returns False (with a message) when it cannot."""
        if self.running:
            self.message = "a run is already training; stop it first"
            return False
        try:
            plan = setup.plan()
        except core.HybridlabError as e:
            self.status, self.message = "error", f"cannot train: {e}"
            return False
        busy = self.slots.acquire(self.owner)
        if busy:
            self.status, self.message = "error", f"cannot train: {busy}"
            return False
        self._stop.clear()
        self._inbox = {}
        self.label = setup.model_name + (f" {setup.preset_name()}" if setup.rows else "")
        self.param.update(status="training", message="loading data…", epoch=0, max_epochs=plan.train.epochs,
                          best_val_loss=None, best_epoch=0, seconds_left=None, history=[], snapshot=None, run=None,
                          derived=None, spec=plan.spec)
        self._thread = threading.Thread(target=self._work, args=(plan,), daemon=True, name="hybridlab-train")
        self._thread.start()
        return True

    def stop(self) -> None:
        """Ask the training thread to stop after the current batch; the best weights are kept."""
        if self.running:
            self._stop.set()
            self.status = "stopping"

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # -- training thread: only writes into the inbox ------------------------------------------------
    def _post(self, **items) -> None:
        with self._lock:
            if "row" in items:
                self._inbox.setdefault("rows", []).append(items.pop("row"))
            self._inbox.update(items)

    def _work(self, plan: core.RunPlan) -> None:
        import torch

        torch.set_num_threads(training_threads())
        try:
            run = core.execute(plan, observer=LiveObserver(self._post), stop_event=self._stop)
            self._post(run=run, derived=DerivedResults.for_run(run), done="finished")
        except core.HybridlabError as e:
            self._post(done="error", message=f"cannot train: {e}")
        except Exception as e:  # shown as one line in the page, never a traceback
            self._post(done="error", message=f"training failed: {type(e).__name__}: {e}")
        finally:
            self.slots.release(self.owner)

    # -- session thread ----------------------------------------------------------------------------
    def _progress(self, rows: list[dict]) -> dict:
        last = rows[-1]
        per_epoch = last["elapsed_seconds"] / max(last["epoch"], 1)
        return {"history": self.history + rows, "epoch": last["epoch"], "best_epoch": last["best_epoch"],
                "best_val_loss": last["best_val_loss"] if math.isfinite(last["best_val_loss"]) else None,
                "seconds_left": per_epoch * (self.max_epochs - last["epoch"])}

    def sync(self) -> bool:
        """Move what the training thread posted into the parameters; True when something changed."""
        with self._lock:
            inbox, self._inbox = self._inbox, {}
        if not inbox:
            return False
        update = {k: inbox[k] for k in ("data", "snapshot", "message") if k in inbox}
        if "rows" in inbox:
            update.update(self._progress(inbox["rows"]))
        if "done" in inbox:
            update["status"] = inbox["done"]
            if "run" in inbox:
                metrics = inbox["run"].metrics
                update.update(run=inbox["run"], derived=inbox.get("derived"), seconds_left=0.0,
                              message=f"{metrics['stopped']} after {metrics['epochs_run']} epochs (best "
                                      f"{metrics['best_epoch']}); mean validation KGE {metrics['mean_val_kge']:.3f}")
        update["syncs"] = self.syncs + 1
        self.param.update(**update)
        return True
