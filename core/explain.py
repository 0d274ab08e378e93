"""Shapley values of a model output with respect to the predictors, from the ``shap`` library."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def parameter_function(model, derived: Callable[[dict], dict], output: str) -> Callable[[np.ndarray], np.ndarray]:
    """f(X) -> one derived quantity per row (e.g. AWC), from a trained hybrid's network.

    X: (n, p) raw predictors in the model's predictor order; returns (n,) float64."""
    def f(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            params = model.parameter_values(torch.as_tensor(np.asarray(x, dtype=np.float32)))
            return derived(params)[output].double().numpy()
    return f


def shapley_values(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, background: np.ndarray,
                   feature_names: list[str], seed: int = 0, max_evals: int = 100):
    """Permutation Shapley values of f at the rows of x against a background sample.

    Returns a ``shap.Explanation`` (values (n, p), base_values (n,), data (n, p)); values add up
    to f(x) - E[f(background)] for each row. max_evals bounds the model calls per row (each on
    the whole background); with few predictors (p <= 6) that covers many permutations."""
    import shap

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(f, masker, feature_names=feature_names, seed=seed)
    return explainer(x, max_evals=max(max_evals, 2 * x.shape[1] + 1), silent=True)
