"""One training at a time per browser session, run by the server's training pool
(:mod:`app.training.pool`) and followed through :meth:`TrainingSession.sync`.

The pool never touches the session's parameters: it posts into a lock-protected inbox, and
``sync``, called by the page's periodic callback in the session's own thread, moves what arrived
into the parameters.
"""
from __future__ import annotations

import functools
import math
import shutil
import tempfile
import types

import param

import core
from core.identify import (Ensemble, TwinDesign, analyse, apply_twins, merge_twin_scores, site_spread, train_twin,
                           twin_calls)

from app.state.inbox import PoolUser
from app.training.pool import Job


def data_label(name: str, data=None, sites: int | None = None) -> str:
    """The data a run trains on by name and size: 'mysoil.csv (412 sites)'; the sites counted in
    ``data`` (core.HybridData) where given."""
    if data is not None:
        sites = int(data.frame[data.id].nunique())
    return f"{name} ({sites} sites)" if sites is not None else name


def ensemble_result(label: str, runs: list) -> dict:
    """Identifiability of finished runs (one per seed) and the across-member sd per row of each
    neural parameter (``spread``; of log10 values for a log-scale parameter, as ``spread_label`` says)."""
    ensemble = Ensemble.from_runs(label or "dashboard", runs)
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
    history = param.List(default=[])
    snapshot = param.Parameter(default=None, doc="latest core.Snapshot")
    run = param.Parameter(default=None, doc="the finished core.Run")
    data = param.Parameter(default=None, doc="the data being trained on")
    spec = param.Parameter(default=None, doc="the core.ModelSpec being trained")
    label = param.String(default="")
    data_name = param.String(default="", doc="the data being trained by name: the uploaded file's or the built-in set's")
    data_label = param.String(default="", doc="the same with its number of sites, e.g. 'mysoil.csv (412 sites)'")
    derived = param.Parameter(default=None, doc="DerivedResults of a finished run whose model derives quantities")
    members = param.Integer(default=1, doc="members of the ensemble being trained (1: one run)")
    member_runs = param.List(default=[], doc="the other members, finished: plan, parameters table and metrics each")
    ensemble = param.Parameter(default=None, doc="the finished ensemble: {'identifiability': core.identify.analyse "
                                                 "result, 'spread': parameter -> across-member sd per row, "
                                                 "'spread_label': parameter -> what that sd is of}")
    syncs = param.Integer(default=0, doc="how many times new results reached the page")
    twins = param.Integer(default=0, doc="twin experiments asked for after the ensemble (0: none)")
    twin_results = param.List(default=[], doc="the twins scored so far (core.identify.train_twin results)")

    inbox_lists = {"row": "rows", "member": "members", "twin": "twin_news"}

    def __init__(self, **params):
        super().__init__(**params)
        self._job: Job | None = None
        self._members: list[Job] = []
        self._twin_jobs: list[Job] = []
        self._twin_folder = None
        self._twin_noise: dict = {}
        self._token = None

    @property
    def running(self) -> bool:
        """A training of this session (or a twin of its ensemble) is queued or running."""
        return any(job.state != "done" for job in [self._job, *self._members, *self._twin_jobs] if job is not None)

    def start(self, setup) -> bool:
        """Validate the set-up and queue the training; returns False (with a message) when it cannot."""
        if self.running:
            self.message = "a run is already training; stop it first"
            return False
        try:
            plan, *others = setup.member_plans()
            token = self._token = self.inbox.reset()  # news of an earlier training are dropped from now on
            self._discard_twins()
            self._job = self.pool.submit(self.owner, plan.to_dict(), functools.partial(self.inbox.post, token))
            member_post = functools.partial(self._post_member, token)
            self._members = [self.pool.submit(self.owner, other.to_dict(), member_post, group=self._job.group)
                             for other in others]
        except core.HybridlabError as e:
            self.status, self.message = "error", f"cannot train: {e}"
            return False
        self.label = setup.model_name + (f" {setup.preset_name()}" if setup.rows else "")
        self.data_name = setup.data_label
        self.data_label = data_label(self.data_name, setup.upload.data if setup.uses_upload else None,
                                     None if setup.uses_upload else setup.n_sites)
        self.param.update(status="queued", message="", epoch=0, max_epochs=plan.train.epochs, queue_position=None,
                          best_val_loss=None, best_epoch=0, seconds_left=None, produced_at=None, history=[], snapshot=None, run=None,
                          derived=None, spec=plan.spec, members=1 + len(others), member_runs=[], ensemble=None,
                          twins=setup.twins if others else 0, twin_results=[])
        return True

    def stop(self) -> None:
        """Cancel a queued training at once; a running one stops after its current batch and keeps
        the best weights."""
        if self.running:
            for job in [self._job, *self._members, *self._twin_jobs]:
                if job.state != "done":
                    self.pool.cancel(job)
            if self.status == "training":
                self.status = "stopping"
        self._discard_twins()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the training is over; True when it is."""
        return self._job is None or self._job.finished.wait(timeout)

    # -- the pool's thread: only writes into the inbox ------------------------------------------------
    def _post_member(self, token, **items) -> None:
        """News of another member: only its end counts. Of its run only what the ensemble reads is
        kept (plan, parameters table, metrics): a whole run holds its data and model."""
        if "done" in items:
            run = items.get("run")
            self.inbox.post(token, member=None if run is None else
                       types.SimpleNamespace(plan=run.plan, parameters=run.parameters, metrics=run.metrics))

    # -- session thread ----------------------------------------------------------------------------
    def _progress(self, rows: list[dict]) -> dict:
        last = rows[-1]
        per_epoch = last["elapsed_seconds"] / max(last["epoch"], 1)
        return {"history": self.history + rows, "epoch": last["epoch"], "best_epoch": last["best_epoch"],
                "best_val_loss": last["best_val_loss"] if math.isfinite(last["best_val_loss"]) else None,
                "seconds_left": per_epoch * (self.max_epochs - last["epoch"]), "produced_at": last.get("produced_at")}

    def sync(self) -> bool:
        """Move what the training thread posted into the parameters; True when something changed."""
        inbox = self.inbox.take()
        if not inbox:
            return False
        update = {k: inbox[k] for k in ("data", "snapshot", "message") if k in inbox}
        if "data" in inbox:  # the data as loaded for the training: their sites counted
            update["data_label"] = data_label(self.data_name, inbox["data"])
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
        if "members" in inbox:
            update["member_runs"] = self.member_runs + [run for run in inbox["members"] if run is not None]
        if "twin_news" in inbox:
            update["twin_results"] = self.twin_results + inbox["twin_news"]
        update["syncs"] = self.syncs + 1
        self.param.update(**update)
        self._close_ensemble()
        self._close_twins()
        return True

    def _close_ensemble(self) -> None:
        """Once the first run and every other member are in: the identifiability of the ensemble."""
        if self.members < 2 or self.ensemble is not None or self.run is None or self.running:
            return
        runs = [self.run, *self.member_runs]
        if len(runs) < 2:
            self.message += "; the other members did not finish, so no agreement"
            self.ensemble = {}
            return
        self.ensemble = ensemble_result(self.label, runs)
        self.message += f"; ensemble of {len(runs)} members: agreement on the parameter rows"
        if self.twins:
            self._start_twins(runs)

    # -- twin experiments: pool jobs of the ensemble's group ---------------------------------------
    def _start_twins(self, runs: list) -> None:
        """Queue the twins of the finished ensemble (one pool job each, its members as one run)."""
        result = self.ensemble["identifiability"]
        if result["fit"]["failed"]:
            self.message += "; no twins: the fit failed"
            return
        self._twin_folder = tempfile.mkdtemp(prefix="hybridlab-twins-")
        combinations = {label: e["parts"] for label, e in result["combinations"].items() if e.get("leading")}
        try:
            items, made = twin_calls(Ensemble.from_runs(self.label or "dashboard", runs), self._twin_folder,
                                     TwinDesign(twins=self.twins, members=min(3, max(2, len(runs)))), combinations)
            self._twin_noise = made["noise"]
            post = functools.partial(self._post_twin, self._token)
            self._twin_jobs = [self.pool.submit(self.owner, None, post, group=self._job.group, call=(train_twin, item))
                               for item in items]
        except core.HybridlabError as e:
            self.message += f"; no twins: {e}"
            return
        self.message += f"; {self.twins} twins queued to check the verdicts"

    def _post_twin(self, token, **news) -> None:
        """A twin job's end (the pool's thread): its scores, or why it has none."""
        if "done" in news:
            self.inbox.post(token, twin=news.get("result") or {"error": news.get("message") or news["done"]})

    def _close_twins(self) -> None:
        """Once every twin is in: the verdicts from twin recovery onto the ensemble."""
        if not self._twin_jobs or len(self.twin_results) < len(self._twin_jobs) or not self.ensemble:
            return
        scored = [r for r in self.twin_results if "error" not in r]
        identifiability = apply_twins(dict(self.ensemble["identifiability"]), merge_twin_scores(scored, self._twin_noise))
        self._discard_twins()
        self.ensemble = {**self.ensemble, "identifiability": identifiability}
        self.message += f"; verdicts from {len(scored)} of {self.twins} twins"

    def _discard_twins(self) -> None:
        for job in self._twin_jobs:
            if job.state != "done":
                self.pool.cancel(job)
        self._twin_jobs = []
        if self._twin_folder:
            shutil.rmtree(self._twin_folder, ignore_errors=True)
            self._twin_folder = None
