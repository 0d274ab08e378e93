"""A trained run's area of applicability (:mod:`core.applicability`), measured where the run is
finished (:func:`core.execute.execute`) and stored in its folder.

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

from core.applicability import Applicability, fit_applicability
from core.datasets import HybridData
from core.epoch import predict
from core.members import ensemble_mean
from core.metrics import kge
from core.tensors import Tensors

#: how the weights are described in the run folder and metrics.json
IMPORTANCE_SOURCE = "permutation importance: drop of the mean validation KGE, one permutation per predictor"


def validation_score(model, tensors: Tensors, targets: list[str]) -> float:
    """The mean KGE over targets of the model's predictions against ``tensors.y`` (NaN skipped)."""
    out = predict(model, tensors)
    if out.predictions.dim() == 3:  # an ensemble: the members' mean
        out, _ = ensemble_mean(out, targets)
    observed, predicted = tensors.y.double().numpy(), out.predictions.double().numpy()
    scores = [kge(observed[:, j], predicted[:, j])["kge"] for j in range(len(targets))]
    finite = [s for s in scores if np.isfinite(s)]
    return float(np.mean(finite)) if finite else float("nan")


def permutation_importance(model, tensors: Tensors, targets: list[str], seed: int = 0) -> np.ndarray:
    """Drop of :func:`validation_score` when each predictor is shuffled.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (a single run's, or an ensemble's stack).
    tensors : Tensors
        The validation rows: x (n, p), forcing (n, f), y (n, T).
    targets : list of str
    seed : int
        Seed of the permutations (one per predictor).

    Returns
    -------
    numpy.ndarray, shape (p,)
        KGE lost per predictor (dimensionless; negative: shuffling it did not hurt).
    """
    base = validation_score(model, tensors, targets)
    rng = np.random.default_rng(seed)
    drops = np.zeros(tensors.x.shape[1])
    for j in range(tensors.x.shape[1]):
        x = tensors.x.clone()
        x[:, j] = x[torch.as_tensor(rng.permutation(len(x))), j]
        drops[j] = base - validation_score(model, Tensors(x, tensors.forcing, tensors.y), targets)
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
