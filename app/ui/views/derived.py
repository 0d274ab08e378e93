"""Quantities derived from each sample's parameters (e.g. AWC from retention parameters): their
distribution and their Shapley dependence on one predictor."""
from __future__ import annotations

import holoviews as hv
import numpy as np

from core.formatting import label

from app.ui.views.base import View, empty, register


@register
class DerivedQuantities(View):
    tab = "Model"
    offer = "derived"
    depends = ("derived",)
    title = "Derived quantities"
    columns = 2
    order = 40

    def render(self, state):
        derived = state.derived
        if derived is None:
            return empty("derived quantities appear when the run has finished")
        name = label(derived.quantity)
        counts, edges = np.histogram(derived.values, bins=40)
        histogram = hv.Histogram((edges, counts), kdims=[name], vdims=["samples"]).opts(
            title=f"{name}: median {np.median(derived.values):.3f}", width=360, height=260)
        explanation, feature = derived.explanation, derived.feature
        j = list(explanation.feature_names).index(feature)
        dependence = (hv.Scatter((explanation.data[:, j], explanation.values[:, j]), kdims=[feature],
                                 vdims=[f"SHAP value of {feature} for {name}"]).opts(size=4)
                      * hv.HLine(0).opts(color="black")).opts(
            title=f"Shapley dependence of {name} on {feature}: mean |SHAP| {np.mean(np.abs(explanation.values[:, j])):.4f}",
            width=360, height=300)
        return [histogram, dependence]
