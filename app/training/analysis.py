"""Analyses of a finished run for the model's views, computed in the training thread because
they take seconds: quantities derived from each sample's parameters (e.g. AWC) and their Shapley
dependence on one predictor."""
from __future__ import annotations

import numpy as np
import param
import torch

import core
from core.report import parameter_function, shapley_values

N_EXPLAIN, N_BACKGROUND = 200, 50


class DerivedResults(param.Parameterized):
    """Derived quantities per distinct predictor row (e.g. AWC per horizon) and the Shapley values
    of the first one with respect to the predictors."""

    quantity = param.String(default="", doc="name of the derived quantity shown")
    values = param.Parameter(default=None, doc="its value per distinct predictor row (numpy array)")
    explanation = param.Parameter(default=None, doc="shap.Explanation of the quantity over the predictors")
    feature = param.String(default="", doc="predictor whose dependence is shown")

    @classmethod
    def for_run(cls, run: core.Run, seed: int = 0) -> "DerivedResults | None":
        """None unless the run's model derives quantities from its parameters (an ensemble's from
        its members' mean parameters)."""
        spec = core.get_model(run.plan.model)
        if spec.derived is None:
            return None
        predictors = list(run.model_config["predictors"])
        x = run.data.frame[predictors].drop_duplicates().to_numpy(dtype=float)
        with torch.inference_mode():
            first = run.model.parameter_values(torch.as_tensor(x[:1], dtype=torch.float32))
            quantity = next(iter(spec.derived({k: v.double() for k, v in first.items()})))
        f = parameter_function(run.model, spec.derived, quantity)
        feature = spec.explain_feature if spec.explain_feature in predictors else predictors[0]
        order = np.random.default_rng(seed).permutation(len(x))
        explanation = shapley_values(f, x[order[:N_EXPLAIN]], background=x[order[-N_BACKGROUND:]],
                                     feature_names=predictors, seed=seed)
        return cls(quantity=quantity, values=f(x), explanation=explanation, feature=feature)
