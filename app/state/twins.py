"""Twin experiments of a finished ensemble, from the page: synthetic twins of its data with a
known parameter field, trained like the ensemble on the server's pool, whose recovery gives the
verdicts (``core.identify``, docs/identifiability.md).

One :class:`TwinCheck` per ensemble: it queues one pool job per twin (of the ensemble's group, so
they count once against the user's share), collects their scores from the pool's thread under a
lock, and :meth:`TwinCheck.verdicts` puts them onto the ensemble's identifiability once all are in.
A new training discards the old check: its late news go nowhere.
"""
from __future__ import annotations

import shutil
import tempfile
import threading

from core.identify import Ensemble, TwinDesign, apply_twins, merge_twin_scores, train_twin, twin_calls

from app.training.news import End, News, Returned
from app.training.pool import Job, TrainingPool


class TwinCheck:
    """The twins of one ensemble: queued by :meth:`start`, scored as their jobs end.

    Parameters
    ----------
    pool : TrainingPool
    owner, group : str
        Whose share the twins take, and the ensemble's job group they join.
    twins : int
        How many twins.
    """

    def __init__(self, pool: TrainingPool, owner: str, group: str, twins: int):
        self.pool, self.owner, self.group, self.twins = pool, owner, group, twins
        self.jobs: list[Job] = []
        self.folder: str | None = None
        self._noise: dict = {}
        self._scores: list[dict] = []
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """A twin is queued or running."""
        return any(job.state != "done" for job in self.jobs)

    def start(self, ensemble: Ensemble, identifiability: dict) -> str:
        """Queue the twins of ``ensemble`` (one pool job each, trained as an ensemble of at most
        3 members); returns what to tell the user (HybridlabError when they cannot be made)."""
        if identifiability["fit"]["failed"]:
            return "no twins: the fit failed"
        self.folder = tempfile.mkdtemp(prefix="hybridlab-twins-")
        combinations = {label: e["parts"] for label, e in identifiability["combinations"].items() if e.get("leading")}
        design = TwinDesign(twins=self.twins, members=min(3, max(2, len(ensemble.members))))
        items, made = twin_calls(ensemble, self.folder, design, combinations)
        self._noise = made["noise"]
        self.jobs = [self.pool.submit(self.owner, None, self._post, group=self.group, call=(train_twin, item))
                     for item in items]
        return f"{self.twins} twins queued to check the verdicts"

    def _post(self, news: News) -> None:
        """A twin job's news (the pool's thread): at its end, its scores or why it has none."""
        if isinstance(news, End):
            score = news.result if isinstance(news, Returned) and news.result else {"error": news.message}
            with self._lock:
                self._scores.append(score)

    @property
    def scored(self) -> int:
        """How many twins have ended."""
        with self._lock:
            return len(self._scores)

    def verdicts(self, identifiability: dict) -> tuple[dict, int] | None:
        """Once every twin has ended: the identifiability with the verdicts from twin recovery,
        and how many twins were scored; None before. The twins' files go."""
        with self._lock:
            scores = list(self._scores)
        if not self.jobs or len(scores) < len(self.jobs):
            return None
        scored = [s for s in scores if "error" not in s]
        result = apply_twins(dict(identifiability), merge_twin_scores(scored, self._noise))
        self.discard()
        return result, len(scored)

    def discard(self) -> None:
        """Cancel the twins not yet ended and remove their files."""
        for job in self.jobs:
            if job.state != "done":
                self.pool.cancel(job)
        self.jobs = []
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
