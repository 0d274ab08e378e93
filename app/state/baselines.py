"""The methods people use instead, fitted on a finished run's own split from Compare runs
(:mod:`core.baselines.on_run`): a random forest, a quantile regression forest, and whichever
other fitted baseline applies to the run's model and data (Rosetta3 for retention, the flux
network's partitioned Reco where the file has it). Their rows join the runs' table.

The fit is one job of the server's pool (a call, like a twin), so it takes a slot and the user's
share as a training does; its news go into the inbox, and :meth:`BaselineFits.sync`, called by the
page's periodic callback, moves them into the parameters.
"""
from __future__ import annotations

import math

import param

import core
from core.baselines.on_run import fitted_baselines, score_split, split_item

from app.state.inbox import PoolUser, dispatch
from app.training.news import Cancelled, Failed, Queued, Returned, Started

#: baseline rows kept at most (the oldest go first)
KEEP_ROWS = 40


def _rounded(value):
    return round(float(value), 3) if value is not None and math.isfinite(value) else None


def baseline_rows(scores: dict, record: dict) -> list[dict]:
    """One table row per baseline of ``scores`` (name -> target -> metrics), named after the run
    whose split it was fitted on, in the columns of :meth:`app.state.runs.RunTable.table`."""
    rows = []
    for name, targets in scores.items():
        kges = [entry["kge"] for entry in targets.values() if math.isfinite(entry["kge"])]
        row = {"label": f"{name} on the split of {record['label']}", "model": f"{name} (baseline)",
               "data": record.get("data", "")}
        row.update({f"val KGE {target}": _rounded(entry["kge"]) for target, entry in targets.items()})
        coverage = [entry["picp"] for entry in targets.values() if "picp" in entry]
        row.update({"mean val KGE": _rounded(sum(kges) / len(kges)) if kges else None,
                    "seconds": round(next(iter(targets.values()))["seconds"], 1) if targets else None})
        if coverage:
            row["90 % interval coverage"] = _rounded(sum(coverage) / len(coverage))
        rows.append(row)
    return rows


class BaselineFits(PoolUser):
    """The baselines fitted on runs' splits in this session: one fit at a time."""

    rows = param.List(default=[], doc="one row per fitted baseline and run, newest last")
    status = param.String(default="", doc="what the latest fit is doing, or why it did not run")
    running = param.Boolean(default=False)

    def __init__(self, **params):
        super().__init__(**params)
        self._job, self._record, self._token = None, None, None

    def start(self, record: dict | None) -> None:
        """Fit every baseline that applies on ``record``'s run (a row of the runs' table, with its
        ``run``) on its training rows; scored on its validation rows."""
        if self.running:
            self.status = "a baseline fit is already running; wait for it"
            return
        if record is None:
            self.status = "choose a finished run first"
            return
        applies = fitted_baselines(record["run"])
        names = [name for name, reason in applies.items() if reason is None]
        if not names:
            self.status = "no fitted baseline applies: " + "; ".join(f"{n}: {r}" for n, r in applies.items())
            return
        token = self.inbox.reset()
        try:
            self._job = self.pool.submit(self.owner, None, lambda news: self.inbox.post(news, token),
                                         call=(score_split, split_item(record["run"], names)))
        except core.HybridlabError as e:
            self.status = f"cannot fit the baselines: {e}"
            return
        self._record, self._token, self.running = record, token, True
        self.status = f"queued: {', '.join(names)} on the split of {record['label']}"

    def sync(self) -> bool:
        """Move the fit's news into the parameters; True when something changed."""
        news = self.inbox.take()
        if news:
            dispatch({Queued: self._queued, Started: self._started, Returned: self._returned,
                      Failed: self._ended, Cancelled: self._ended}, news)
        return bool(news)

    def _queued(self, news: Queued) -> None:
        self.status = f"queued: place {news.place} of {news.length}"

    def _started(self, news: Started) -> None:
        self.status = f"fitting on the split of {self._record['label']}"

    def _returned(self, news: Returned) -> None:
        rows = baseline_rows(news.result, self._record)
        self.param.update(rows=(self.rows + rows)[-KEEP_ROWS:], running=False,
                          status=f"fitted {', '.join(news.result)} on the split of {self._record['label']}")

    def _ended(self, news) -> None:
        self.param.update(running=False, status=f"the baseline fit ended: {news.message}")

    def discard(self) -> None:
        """Cancel a fit not yet ended and let go of the rows (the session ended)."""
        if self._job is not None and self._job.state != "done":
            self.pool.cancel(self._job)
        self.inbox.reset()
        self.param.update(rows=[], running=False)
