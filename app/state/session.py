"""One training at a time per browser session, a single run or an ensemble of K members alike
(one pool job: ``core.run.execute`` trains the members together on one split), run by the server's
training pool (:mod:`app.training.pool`) and followed through :meth:`TrainingSession.sync`.

The pool never touches the session's parameters: it posts typed news (:mod:`app.training.news`)
into a lock-protected inbox, and ``sync``, called by the page's periodic callback in the
session's own thread, hands each to its handler by type, which moves it into the parameters.
An ensemble's twin experiments are a :class:`~app.state.twins.TwinCheck` of their own.
"""
from __future__ import annotations

import functools
import math

import param

import core
from core.identify import Ensemble, analyse, site_spread

from app.state.inbox import PoolUser, dispatch
from app.state.twins import TwinCheck
from app.training.news import Cancelled, Epoch, Failed, Finished, Loaded, Queued, Snapshot, Started, Stopped
from app.training.pool import Job


def data_label(name: str, data=None, sites: int | None = None) -> str:
    """The data a run trains on by name and size: 'mysoil.csv (412 sites)'; the sites counted in
    ``data`` (core.HybridData) where given."""
    if data is not None:
        sites = int(data.frame[data.id].nunique())
    return f"{name} ({sites} sites)" if sites is not None else name


def ensemble_result(ensemble: Ensemble) -> dict:
    """Identifiability of an ensemble's members and the across-member sd per row of each neural
    parameter (``spread``; of log10 values for a log-scale parameter, as ``spread_label`` says)."""
    neural = [p.name for p in ensemble.parameter_set if p.role == "neural"]
    spread = {name: site_spread(ensemble, name) for name in neural}
    return {"identifiability": analyse(ensemble), "spread": {name: values for name, (values, _) in spread.items()},
            "spread_label": {name: label for name, (_, label) in spread.items()}}


class TrainingSession(PoolUser):
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
    history = param.List(default=[], doc="history rows so far (an ensemble's: the members' median per epoch)")
    snapshot = param.Parameter(default=None, doc="latest core.Snapshot (an ensemble's: of the members' mean)")
    run = param.Parameter(default=None, doc="the finished core.Run (an ensemble's holds every member)")
    data = param.Parameter(default=None, doc="the data being trained on")
    spec = param.Parameter(default=None, doc="the core.ModelSpec being trained")
    label = param.String(default="")
    data_name = param.String(default="", doc="the data being trained by name: the uploaded file's or the built-in set's")
    data_label = param.String(default="", doc="the same with its number of sites, e.g. 'mysoil.csv (412 sites)'")
    derived = param.Parameter(default=None, doc="DerivedResults of a finished run whose model derives quantities")
    members = param.Integer(default=1, doc="members of the ensemble being trained (1: one run)")
    ensemble = param.Parameter(default=None, doc="the finished ensemble: {'identifiability': core.identify.analyse "
                                                 "result, 'spread': parameter -> across-member sd per row, "
                                                 "'spread_label': parameter -> what that sd is of}")
    syncs = param.Integer(default=0, doc="how many times new results reached the page")
    twins = param.Integer(default=0, doc="twin experiments asked for after the ensemble (0: none)")

    def __init__(self, **params):
        super().__init__(**params)
        self._job: Job | None = None
        self._twins: TwinCheck | None = None
        self._handlers = {Queued: self._queued, Started: self._started, Loaded: self._loaded, Epoch: self._epoch,
                          Snapshot: self._snapshot, Stopped: self._stopped, Finished: self._finished,
                          Cancelled: self._ended, Failed: self._ended}

    @property
    def running(self) -> bool:
        """A training of this session (or a twin of its ensemble) is queued or running."""
        return (self._job is not None and self._job.state != "done") or \
            (self._twins is not None and self._twins.running)

    def start(self, setup) -> bool:
        """Validate the set-up and queue the training (an ensemble as one job); returns False
        (with a message) when it cannot."""
        if self.running:
            self.message = "a run is already training; stop it first"
            return False
        try:
            plan = setup.plan()
            token = self.inbox.reset()  # news of an earlier training are dropped from now on
            self._discard_twins()
            self._job = self.pool.submit(self.owner, plan.to_dict(), functools.partial(self.inbox.post, token=token))
        except core.HybridlabError as e:
            self.status, self.message = "error", f"cannot train: {e}"
            return False
        members = plan.train.members
        self.label = setup.model_name + (f" {setup.preset_name()}" if setup.rows else "") + \
            (f" ensemble of {members}" if members > 1 else "")
        self.data_name = setup.data_label
        self.data_label = data_label(self.data_name, setup.upload.data if setup.uses_upload else None,
                                     None if setup.uses_upload else setup.n_sites)
        self.param.update(status="queued", message="", epoch=0, max_epochs=plan.train.epochs, queue_position=None,
                          best_val_loss=None, best_epoch=0, seconds_left=None, produced_at=None, history=[], snapshot=None, run=None,
                          derived=None, spec=plan.spec, members=members, ensemble=None,
                          twins=setup.twins if members > 1 else 0)
        return True

    def stop(self) -> None:
        """Cancel a queued training at once; a running one stops after its current batch and keeps
        the best weights."""
        if self._job is not None and self._job.state != "done":
            self.pool.cancel(self._job)
            if self.status == "training":
                self.status = "stopping"
        self._discard_twins()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the training is over; True when it is."""
        return self._job is None or self._job.finished.wait(timeout)

    # -- session thread: the news, each by its type --------------------------------------------------
    def sync(self) -> bool:
        """Move the news the pool posted into the parameters; True when something changed."""
        news = self.inbox.take()
        if not news:
            self._close_twins()
            return False
        update: dict = {}
        rows: list[dict] = []
        dispatch(self._handlers, news, update, rows)
        if rows:
            update.update(self._progress(rows))
        update["syncs"] = self.syncs + 1
        self.param.update(**update)
        self._close_ensemble()
        self._close_twins()
        return True

    def _queued(self, news: Queued, update: dict, rows: list) -> None:
        update.update(status="queued", queue_position=(news.place, news.length, news.seconds))

    def _started(self, news: Started, update: dict, rows: list) -> None:
        update.update(status="training", queue_position=None, message="loading data…")

    def _loaded(self, news: Loaded, update: dict, rows: list) -> None:
        update["message"] = ""  # the data are in: the status line says the rest
        if news.data is not None:  # the data as loaded for the training: their sites counted
            update.update(data=news.data, data_label=data_label(self.data_name, news.data))

    def _epoch(self, news: Epoch, update: dict, rows: list) -> None:
        rows.append(news.row)

    def _snapshot(self, news: Snapshot, update: dict, rows: list) -> None:
        update["snapshot"] = news.snapshot

    def _stopped(self, news: Stopped, update: dict, rows: list) -> None:
        update["status"] = "stopped"

    def _finished(self, news: Finished, update: dict, rows: list) -> None:
        update.update(status="finished", queue_position=None, run=news.run, derived=news.derived, seconds_left=0.0,
                      message=finished_message(news.run.metrics))

    def _ended(self, news: Cancelled | Failed, update: dict, rows: list) -> None:
        update.update(status="cancelled" if isinstance(news, Cancelled) else "error", queue_position=None,
                      message=news.message)

    def _progress(self, rows: list[dict]) -> dict:
        last = rows[-1]
        per_epoch = last["elapsed_seconds"] / max(last["epoch"], 1)
        return {"history": self.history + rows, "epoch": last["epoch"], "best_epoch": last["best_epoch"],
                "best_val_loss": last["best_val_loss"] if math.isfinite(last["best_val_loss"]) else None,
                "seconds_left": per_epoch * (self.max_epochs - last["epoch"]), "produced_at": last.get("produced_at")}

    # -- an ensemble: agreement, then its twins ----------------------------------------------------
    def _close_ensemble(self) -> None:
        """Once an ensemble's run is in: the identifiability of its members; then its twins."""
        if self.members < 2 or self.ensemble is not None or self.run is None:
            return
        kept = len(self.run.metrics.get("members") or [])
        if kept < 2:
            self.message += f"; {kept} member finished, so no agreement"
            self.ensemble = {}
            return
        ensemble = Ensemble.from_runs(self.label or "dashboard", [self.run])
        self.ensemble = ensemble_result(ensemble)
        self.message += f"; ensemble of {kept} members: agreement on the parameter rows"
        if self.twins:
            self._twins = TwinCheck(self.pool, self.owner, self._job.group, self.twins)
            try:
                self.message += "; " + self._twins.start(ensemble, self.ensemble["identifiability"])
            except core.HybridlabError as e:
                self._discard_twins()
                self.message += f"; no twins: {e}"

    def _close_twins(self) -> None:
        """Once every twin is in: the verdicts from twin recovery onto the ensemble."""
        if self._twins is None or not self.ensemble:
            return
        done = self._twins.verdicts(self.ensemble["identifiability"])
        if done is None:
            return
        identifiability, scored = done
        self._twins = None
        self.ensemble = {**self.ensemble, "identifiability": identifiability}
        self.message += f"; verdicts from {scored} of {self.twins} twins"

    def _discard_twins(self) -> None:
        if self._twins is not None:
            self._twins.discard()
            self._twins = None


def finished_message(metrics: dict) -> str:
    """The status line of a finished run: why it stopped and its validation KGE; an ensemble's is
    that of its members' mean, with the members' own beside it and those left out named."""
    text = (f"{metrics['stopped']} after {metrics['epochs_run']} epochs (best {metrics['best_epoch']}); mean "
            f"validation KGE {metrics['mean_val_kge']:.3f}")
    summary = (metrics.get("member_summary") or {}).get("mean_val_kge")
    if summary:
        text += f" of the {summary['n']} members' mean (each member {summary['mean']:.3f} ± {summary['sd']:.3f})"
    failed = metrics.get("failed_members") or []
    if failed:
        text += f"; {len(failed)} member(s) diverged and were left out"
    return text
