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

    _cache_compiled_kernels()
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(f, masker, feature_names=feature_names, seed=seed)
    return explainer(x, max_evals=max(max_evals, 2 * x.shape[1] + 1), silent=True)


#: shap's numba kernels that take only arrays, so that a compiled copy on disk matches in a new
#: process (those that take shap's link function would be compiled and stored anew each time)
CACHED_KERNELS = {"shap.maskers._tabular": ("_delta_masking", "_single_delta_mask"),
                  "shap.utils._masked_model": ("_init_masks", "_rec_fill_masks")}


def _cache_compiled_kernels() -> None:
    """Let numba keep shap's compiled masking kernels on disk (next to shap's sources, or in
    ``NUMBA_CACHE_DIR``). shap compiles them without a cache, so every new process (each Dask
    worker of an experiment) spent seconds of its first explanation compiling the same code."""
    import importlib

    for module_name, names in CACHED_KERNELS.items():
        module = importlib.import_module(module_name)
        for name in names:
            kernel = getattr(module, name, None)
            if kernel is None or not hasattr(kernel, "enable_caching") or type(kernel._cache).__name__ != "NullCache":
                continue  # another shap or numba: compile as shap does
            try:
                kernel.enable_caching()
            except RuntimeError:  # no writable place for a cache
                return
