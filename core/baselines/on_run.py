"""The fitted baselines on one finished run's own split: what the dashboard's Compare runs shows
beside the user's runs. The same fits and scores as ``hybridlab experiment --baselines``
(:func:`core.baselines.scoring.score_baseline`), on the run's training and validation rows.

:func:`split_item` describes the job: the rows the run trained on (its data in memory, so an
uploaded file that has gone since still serves) and the positions of its two splits; it crosses
to a Dask worker by Dask's own serialisation. :func:`score_split` fits each baseline there.
"""
from __future__ import annotations

import threading

import numpy as np

from core.baselines import BASELINES, get_baseline
from core.baselines.scoring import score_baseline
from core.baselines.spec import BaselineRows
from core.errors import HybridlabError


def fitted_baselines(run) -> dict[str, str | None]:
    """Every fitted baseline (not trained: ``nn`` and ``one_q10`` are runs of their own) -> None
    where it applies to ``run``'s model and data, else the one-line reason it does not."""
    spec = run.plan.spec
    _, targets = spec.variables(run.data, run.plan.targets)
    return {b.name: b.applies(spec, run.data, targets) for b in BASELINES.values() if not b.trained}


def split_item(run, names: list[str]) -> dict:
    """The job of fitting ``names`` on ``run``'s split.

    Parameters
    ----------
    run : core.Run
        A finished run (its plan, and its training and validation row positions).
    names : list of str
        Fitted baselines that apply (:func:`fitted_baselines`).

    Returns
    -------
    dict
        ``rows`` (:class:`~core.baselines.spec.BaselineRows`: the run's data, covariates,
        forcing, targets, its training and validation row positions and its seed) and ``names``.
    """
    for name in names:
        if get_baseline(name).trained:
            raise HybridlabError(f"baseline {name} is trained as a run of its own, not fitted on a split")
    plan, data = run.plan, run.data
    forcing, targets = plan.spec.variables(data, plan.targets)
    rows = BaselineRows(data=data, predictors=list(data.predictors), forcing=forcing, targets=targets,
                        train=np.asarray(run.train_rows, dtype=np.int64), val=np.asarray(run.val_rows, dtype=np.int64),
                        seed=plan.train.seed, model=plan.model)
    return {"rows": rows, "names": list(names)}


def score_split(item: dict, stop_event: threading.Event | None = None) -> dict:
    """Fit every baseline of ``item`` (:func:`split_item`) on its training rows and score it on its
    validation rows.

    Returns
    -------
    dict
        baseline name -> target -> its validation metrics (as ``score_baseline`` gives them); a
        baseline not reached before ``stop_event`` was set is left out.
    """
    rows = item["rows"]
    scores = {}
    for name in item["names"]:
        if stop_event is not None and stop_event.is_set():
            break
        scores[name] = score_baseline(get_baseline(name), rows)
    return scores


__all__ = ["fitted_baselines", "score_split", "split_item"]
