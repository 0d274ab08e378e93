"""One training at a time per browser session, run by the server's training pool
(:mod:`app.pool`) and followed through :meth:`TrainingSession.sync`.

The pool never touches the session's parameters: it posts into a lock-protected inbox, and
``sync``, called by the page's periodic callback in the session's own thread, moves what arrived
into the parameters.
"""
from __future__ import annotations

import functools
import math
import threading

import param

import core

from .pool import Job, TrainingPool, server_pool

class TrainingSession(param.Parameterized):
    """One training at a time, queued in the server's pool and followed through :meth:`sync`."""

    status = param.Selector(default="idle", objects=["idle", "queued", "training", "stopping", "stopped",
                                                     "finished", "cancelled", "error"])
    queue_position = param.Parameter(default=None, doc="(place, queue length, seconds until it starts or None)")
    message = param.String(default="")
    epoch = param.Integer(default=0)
    max_epochs = param.Integer(default=1)
    best_val_loss = param.Number(default=None, allow_None=True)
    best_epoch = param.Integer(default=0)
    seconds_left = param.Number(default=None, allow_None=True)
    produced_at = param.Number(default=None, allow_None=True,
                               doc="when the training finished the epoch shown (time.time() of the training's machine)")
    history = param.List(default=[])
    snapshot = param.Parameter(default=None, doc="latest core.Snapshot")
    run = param.Parameter(default=None, doc="the finished core.Run")
    data = param.Parameter(default=None, doc="the data being trained on")
    spec = param.Parameter(default=None, doc="the core.ModelSpec being trained")
    label = param.String(default="")
    derived = param.Parameter(default=None, doc="DerivedResults of a finished run whose model derives quantities")
    syncs = param.Integer(default=0, doc="how many times new results reached the page")
    pool = param.ClassSelector(class_=TrainingPool, doc="the server's training pool (one per process)")
    owner = param.String(default="", doc="whose share of the pool a training takes: the signed-in user, else this session")

    def __init__(self, **params):
        params.setdefault("owner", f"session-{id(self)}")
        if params.get("pool") is None:
            params["pool"] = server_pool()
        super().__init__(**params)
        self._lock = threading.Lock()
        self._inbox: dict = {}
        self._job: Job | None = None
        self._token = None  # the current training's; news carrying another are dropped

    @property
    def running(self) -> bool:
        """A training of this session is queued or running."""
        return self._job is not None and self._job.state != "done"

    def start(self, setup) -> bool:
        """Validate the set-up and queue the training; returns False (with a message) when it cannot."""
        if self.running:
            self.message = "a run is already training; stop it first"
            return False
        try:
            plan = setup.plan()
            with self._lock:
                self._inbox, self._token = {}, object()
            self._job = self.pool.submit(self.owner, plan.to_dict(), functools.partial(self._post, self._token))
        except core.HybridlabError as e:
            self.status, self.message = "error", f"cannot train: {e}"
            return False
        self.label = setup.model_name + (f" {setup.preset_name()}" if setup.rows else "")
        self.param.update(status="queued", message="", epoch=0, max_epochs=plan.train.epochs, queue_position=None,
                          best_val_loss=None, best_epoch=0, seconds_left=None, produced_at=None, history=[], snapshot=None, run=None,
                          derived=None, spec=plan.spec)
        return True

    def stop(self) -> None:
        """Cancel a queued training at once; a running one stops after its current batch and keeps
        the best weights."""
        if self.running:
            self.pool.cancel(self._job)
            if self.status == "training":
                self.status = "stopping"

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the training is over; True when it is."""
        return self._job is None or self._job.finished.wait(timeout)

    # -- the pool's thread: only writes into the inbox ------------------------------------------------
    def _post(self, token, **items) -> None:
        with self._lock:
            if token is not self._token:
                return  # news of an earlier training
            if "row" in items:
                self._inbox.setdefault("rows", []).append(items.pop("row"))
            self._inbox.update(items)

    # -- session thread ----------------------------------------------------------------------------
    def _progress(self, rows: list[dict]) -> dict:
        last = rows[-1]
        per_epoch = last["elapsed_seconds"] / max(last["epoch"], 1)
        return {"history": self.history + rows, "epoch": last["epoch"], "best_epoch": last["best_epoch"],
                "best_val_loss": last["best_val_loss"] if math.isfinite(last["best_val_loss"]) else None,
                "seconds_left": per_epoch * (self.max_epochs - last["epoch"]), "produced_at": last.get("produced_at")}

    def sync(self) -> bool:
        """Move what the training thread posted into the parameters; True when something changed."""
        with self._lock:
            inbox, self._inbox = self._inbox, {}
        if not inbox:
            return False
        update = {k: inbox[k] for k in ("data", "snapshot", "message") if k in inbox}
        if "queued" in inbox:
            update.update(status="queued", queue_position=inbox["queued"])
        if "started" in inbox:
            update.update(status="training", queue_position=None, message=inbox.get("message", "loading data…"))
        if "stopped" in inbox:
            update["status"] = "stopped"
        if "rows" in inbox:
            update.update(self._progress(inbox["rows"]))
        if "done" in inbox:
            update.update(status=inbox["done"], queue_position=None)
            if "run" in inbox:
                metrics = inbox["run"].metrics
                update.update(run=inbox["run"], derived=inbox.get("derived"), seconds_left=0.0,
                              message=f"{metrics['stopped']} after {metrics['epochs_run']} epochs (best "
                                      f"{metrics['best_epoch']}); mean validation KGE {metrics['mean_val_kge']:.3f}")
        update["syncs"] = self.syncs + 1
        self.param.update(**update)
        return True
