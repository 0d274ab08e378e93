"""A trained run's area of applicability (:mod:`core.spatial.applicability`), measured where the run is
finished (:func:`core.run.execute.execute`) and stored in its folder.

The weights are permutation importances from the run itself: for each predictor, the drop of the
mean validation KGE over the targets when that predictor's column is shuffled among the
validation rows (one permutation per predictor, NumPy generator seeded with the run's seed). A
run stores no Shapley values (experiments compute them for their reports only), so these are the
importances every run has. Each training row's DI is measured to the training rows of other
sites (the groups a site split keeps together); a caller with folds or spatial blocks passes them.
"""
from __future__ import annotations

import numpy as np
import torch

from core.spatial.applicability import Applicability, fit_applicability
from core.datasets import HybridData
from core.training.epoch import predict
from core.hybrid.members import ensemble_mean
from core.metrics import kge
from core.training.tensors import Tensors

#: how the weights are described in the run folder and metrics.json
IMPORTANCE_SOURCE = "permutation importance: drop of the mean validation KGE, one permutation per predictor"
#: validation rows the importances are measured on, at most (a fixed-seed sample of them)
IMPORTANCE_ROWS = 5000
#: predictor values evaluated in one forward pass of shuffled copies (about 4 bytes each)
BATCH_VALUES = 20_000_000


def _scores(model, tensors: Tensors, targets: list[str], blocks: int) -> list[float]:
    """The mean KGE over targets (NaN pairs skipped) of each of ``blocks`` equal row blocks of
    ``tensors`` (one forward pass for all of them)."""
    out = predict(model, tensors)
    if out.predictions.dim() == 3:  # an ensemble: the members' mean
        out, _ = ensemble_mean(out, targets)
    n = len(tensors) // blocks
    observed, predicted = tensors.y[:n].double().numpy(), out.predictions.double().numpy()
    scores = []
    for b in range(blocks):
        part = predicted[b * n:(b + 1) * n]
        kges = [kge(observed[:, j], part[:, j])["kge"] for j in range(len(targets))]
        finite = [k for k in kges if np.isfinite(k)]
        scores.append(float(np.mean(finite)) if finite else float("nan"))
    return scores


def validation_score(model, tensors: Tensors, targets: list[str]) -> float:
    """The mean KGE over targets of the model's predictions against ``tensors.y`` (NaN skipped)."""
    return _scores(model, tensors, targets, 1)[0]


def _repeated(tensors: Tensors, xs: list[torch.Tensor]) -> Tensors:
    k = len(xs)
    return Tensors(torch.cat(xs), tensors.forcing.repeat(k, 1), tensors.y.repeat(k, 1))


def permutation_importance(model, tensors: Tensors, targets: list[str], seed: int = 0) -> np.ndarray:
    """Drop of :func:`validation_score` when each predictor is shuffled.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (a single run's, or an ensemble's stack).
    tensors : Tensors
        The validation rows: x (n, p), forcing (n, f), y (n, T); at most
        :data:`IMPORTANCE_ROWS` of them are used (a fixed-seed sample).
    targets : list of str
    seed : int
        Seed of the sample and of the permutations (one per predictor).

    Returns
    -------
    numpy.ndarray, shape (p,)
        KGE lost per predictor (dimensionless; negative: shuffling it did not hurt).
    """
    rng = np.random.default_rng(seed)
    if len(tensors) > IMPORTANCE_ROWS:
        tensors = tensors.take(torch.as_tensor(np.sort(rng.choice(len(tensors), IMPORTANCE_ROWS, replace=False))))
    n, p = tensors.x.shape
    base = validation_score(model, tensors, targets)
    per_pass = max(1, BATCH_VALUES // max(n * p, 1))  # shuffled copies of the rows in one forward pass
    drops = np.zeros(p)
    for first in range(0, p, per_pass):
        xs = []
        for j in range(first, min(first + per_pass, p)):
            x = tensors.x.clone()
            x[:, j] = x[torch.as_tensor(rng.permutation(n)), j]
            xs.append(x)
        drops[first:first + len(xs)] = base - np.array(_scores(model, _repeated(tensors, xs), targets, len(xs)))
    return drops


def fit_run_applicability(model, data: HybridData, rows: dict, forcing: list[str], targets: list[str],
                          seed: int = 0, groups: np.ndarray | None = None) -> Applicability | None:
    """The applicability of a trained run; None for a model without predictors.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model.
    data : HybridData
        The data it was trained on.
    rows : dict
        ``train`` and ``val``: row positions (numpy.ndarray) of the two splits.
    forcing, targets : list of str
        The model's forcing and targets.
    seed : int
        The run's seed (permutations, and the sample d̄ is measured on).
    groups : numpy.ndarray, shape (n_rows,), optional
        Fold or block of every row of ``data``; default its site ids.

    Returns
    -------
    Applicability or None
    """
    if not data.predictors or not len(rows["val"]):
        return None
    importance = permutation_importance(model, data.tensors(rows["val"], forcing, targets), targets, seed)
    groups = data.frame[data.id].to_numpy() if groups is None else np.asarray(groups)
    x = data.frame[data.predictors].iloc[rows["train"]].to_numpy(dtype=np.float64)
    return fit_applicability(x, groups[rows["train"]], importance, list(data.predictors), IMPORTANCE_SOURCE, seed)


def applicability_metrics(applicability: Applicability, data: HybridData, val_rows: np.ndarray) -> dict:
    """metrics.json's ``applicability``: its summary, and the validation rows' DI (median) and
    share inside the AOA."""
    di = applicability.dissimilarity(data.frame[applicability.predictors].iloc[val_rows].to_numpy(dtype=np.float64))
    known = np.isfinite(di)
    return {**applicability.summary(),
            "val_inside": float(applicability.inside(di[known]).mean()) if known.any() else float("nan"),
            "val_median_di": float(np.median(di[known])) if known.any() else float("nan"),
            "train_median_di": float(np.median(applicability.train_di))}


__all__ = ["IMPORTANCE_SOURCE", "applicability_metrics", "fit_run_applicability", "permutation_importance",
           "validation_score"]
