"""A role search started from the page (``core.roles``): which parameters should be neural.

The search runs in a thread of the server (it only decides; its trainings are jobs of the
server's pool, through :class:`app.training.pool_executor.PoolExecutor`) into a temporary folder that goes
when the session ends. Like :class:`app.state.session.TrainingSession`, the thread only posts into an
inbox, and :meth:`RoleSearchSession.sync`, called by the page's periodic callback, moves what
arrived into the parameters that the views show.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from pathlib import Path

import param

import core
from core.roles import RoleSearch, neural_in, run_role_search, stop_reason

from app.state.inbox import PoolUser
from app.training.news import Cancelled, End, Failed, Finished, SearchRow, SearchStep
from app.training.pool_executor import PoolExecutor

STATUSES = ["idle", "running", "stopping", "finished", "stopped", "error"]
#: how a search's end shows in its status
END_STATUS = {Finished: "finished", Cancelled: "stopped", Failed: "error"}


def step_of(configuration: str) -> tuple[int, str | None]:
    """A search configuration's step and the parameter it tries: "neural=cue+rb" -> (2, "rb");
    "all_global" -> (0, None)."""
    neural = neural_in(configuration)
    return (len(neural), neural[-1]) if neural else (0, None)


class RoleSearchSession(PoolUser):
    """One role search at a time per page: its settings, the path so far and the current step."""

    seeds = param.Integer(default=3, bounds=(2, 10), doc="seeds per configuration (SEED..SEED+N-1)")
    candidates = param.List(default=[], item_type=str, doc="parameters that may become neural (empty: all not fixed)")
    status = param.Selector(default="idle", objects=STATUSES)
    message = param.String(default="")
    path = param.List(default=[], doc="the steps decided so far, each a core.roles.RoleStep as a dict")
    step = param.Integer(default=0, doc="the step being trained")
    trying = param.Dict(default={}, doc="the current step: tried parameter (None at step 0) -> KGEs of its seeds so far")
    progress = param.Dict(default={}, doc="runs of the current step: queued, running, done")
    folder = param.Parameter(default=None, doc="the search folder (role_search.json, .md, .png, step-K/)")

    def __init__(self, **params):
        super().__init__(**params)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._executor: PoolExecutor | None = None
        self._search: RoleSearch | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def plan(self, setup) -> RoleSearch:
        """The search for the form's settings (its roles are replaced); HybridlabError when the
        form is invalid or the search is larger than this server allows."""
        base = setup.plan()
        search = RoleSearch(base.to_dict(), list(range(base.train.seed, base.train.seed + self.seeds)),
                            self.candidates or None)
        runs = len(search.candidates) * self.seeds
        allowed = self.pool.limits.role_search_runs
        if runs > allowed:
            raise core.HybridlabError(f"{len(search.candidates)} candidates x {self.seeds} seeds = {runs} runs per step, "
                                      f"over this server's limit of {allowed}; choose fewer candidates or seeds")
        return search

    def start(self, setup) -> bool:
        """Start a search for the form's settings; False (with a message) when it cannot."""
        if self.running:
            self.message = "a role search is already running; stop it first"
            return False
        try:
            search = self.plan(setup)
        except core.HybridlabError as e:
            self.param.update(status="error", message=f"cannot search: {e}")
            return False
        self.discard()
        self._search = search
        folder = Path(tempfile.mkdtemp(prefix="hybridlab-roles-"))
        self._stop = threading.Event()
        self.inbox.reset()
        self.param.update(status="running", message="", path=[], step=0, trying={}, progress={}, folder=folder)
        self._executor = PoolExecutor(self.pool, self.owner)
        self._thread = threading.Thread(target=self._work, args=(search, folder, self._stop), daemon=True,
                                        name="hybridlab-role-search")
        self._thread.start()
        return True

    def stop(self) -> None:
        """Cancel the queued runs at once; running ones end after their current batch."""
        if self.running:
            self._stop.set()
            self.status = "stopping"

    def discard(self) -> None:
        """Stop the search and remove its folder (a new search, or the session ended); a running
        search's folder goes once its last run has ended."""
        self.stop()
        folder, thread, self.folder = self.folder, self._thread, None
        if folder is None:
            return
        if thread is not None and thread.is_alive():
            threading.Thread(target=lambda: (thread.join(), shutil.rmtree(folder, ignore_errors=True)),
                             daemon=True).start()
        else:
            shutil.rmtree(folder, ignore_errors=True)

    def found_roles(self) -> dict[str, str]:
        """The roles the search ended with: its neural parameters neural, the other candidates
        global (empty before a step is decided)."""
        if not self.path or self._search is None:
            return {}
        return {name: role for name, role in self._search.roles(self.path[-1]["neural"]).items()
                if name in self._search.candidates}

    def use_roles(self, setup) -> bool:
        """Put the roles found on the form's rows; False (with a message) when the form now holds
        another model."""
        roles = self.found_roles()
        model = core.RunPlan.from_dict(self._search.base).model if self._search is not None else None
        if not roles or model != setup.model_name:
            self.message = f"the search was for model {model!r}; choose it again to use its roles" if roles else \
                "no roles found yet"
            return False
        setup.apply_roles(roles)
        self.message = "roles put on the form: " + ", ".join(f"{name} {role}" for name, role in roles.items())
        return True

    # -- the search's thread: only writes into the inbox ----------------------------------------------
    def _work(self, search: RoleSearch, folder: Path, stop: threading.Event) -> None:
        try:
            path = run_role_search(search, folder, executor=self._executor, stop_event=stop,
                                   on_step=lambda step: self.inbox.post(SearchStep(dataclasses.asdict(step))),
                                   on_row=lambda row: self.inbox.post(SearchRow(row)))
            reason = stop_reason(path, search.candidates)
            self.inbox.post(Cancelled(reason) if stop.is_set() else Finished(message=reason))
        except core.HybridlabError as e:
            self.inbox.post(Failed(f"cannot search: {e}"))
        except Exception as e:  # one line in the page, never a traceback
            self.inbox.post(Failed(f"role search failed: {type(e).__name__}: {e}"))

    # -- the session's thread --------------------------------------------------------------------------
    def sync(self) -> bool:
        """Move what the search posted into the parameters; True when something changed."""
        news = self.inbox.take()
        progress = self._executor.counts() if self._executor is not None and self.running else {}
        if not news:
            if progress != self.progress:
                self.progress = progress
                return True
            return False
        steps = [n.step for n in news if isinstance(n, SearchStep)]
        rows = [n.row for n in news if isinstance(n, SearchRow)]
        ends = [n for n in news if isinstance(n, End)]
        unknown = [n for n in news if not isinstance(n, (SearchStep, SearchRow, *END_STATUS))]
        if unknown:
            raise TypeError(f"a role search has no use for news {type(unknown[0]).__name__}")
        update: dict = {"progress": progress}
        if steps:
            update["path"] = self.path + steps
        trying, step = self._trying(rows)
        path = update.get("path", self.path)
        if path and (step <= path[-1]["step"] or ends):  # decided: the next step begins, or none
            trying, step = {}, path[-1]["step"] + (not ends)
        update.update(trying=trying, step=step)
        if ends:
            update.update(status=END_STATUS[type(ends[-1])], message=ends[-1].message, progress={})
        self.param.update(**update)
        return True

    def _trying(self, rows: list[dict]) -> tuple[dict, int]:
        """The current step and its tried parameters' KGEs after the runs in ``rows`` ended."""
        trying, step = dict(self.trying), self.step
        for row in rows:
            row_step, parameter = step_of(str(row.get("configuration", "")))
            if row_step != step:
                trying, step = {}, row_step
            kge = row.get("mean_val_kge")
            trying.setdefault(parameter, [])
            if row.get("status") == "finished" and kge is not None:
                trying[parameter] = trying[parameter] + [float(kge)]
        return trying, step
