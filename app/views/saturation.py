"""A pool against its capacity, predicted and observed (the SOC model's MOC / q_max, the
report's Figure 8), for models that declare a ``saturation``."""
from __future__ import annotations

import holoviews as hv
import numpy as np

from core.formatting import label, number

from .base import View, empty, register


@register
class Saturation(View):
    tab = "Model"
    offer = "saturation"
    depends = ("snapshot",)
    columns = 2
    order = 10

    @property
    def title(self) -> str:
        return "Saturation of a pool: the pool over its capacity (1: full)"

    def render(self, state):
        target, capacity = self.spec.saturation
        ratio_name = f"{label(target)} / {label(capacity)}"
        snapshot = state.snapshot
        if snapshot is None or capacity not in snapshot.parameters or f"{target}_pred" not in snapshot.predictions:
            return empty(f"{ratio_name} histograms appear during training")
        capacity_values = snapshot.parameters[capacity].to_numpy()
        plots = []
        for column, what, color in ((f"{target}_pred", "predicted", "#2ca02c"), (f"{target}_obs", "observed", "#9467bd")):
            ratio = snapshot.predictions[column].to_numpy() / capacity_values
            ratio = ratio[np.isfinite(ratio)]
            if len(ratio) == 0:
                continue
            counts, edges = np.histogram(ratio, bins=50, range=(0, max(1.2, float(np.percentile(ratio, 99.5)))))
            share = float(np.mean(ratio > 1))
            plots.append((hv.Histogram((edges, counts), kdims=[f"{what} {ratio_name}"], vdims=["sites"]).opts(color=color)
                          * hv.VLine(1.0).opts(color="black")).opts(
                title=f"{what} {ratio_name}: {number(100 * share, 1)} % above 1", width=380, height=240))
        return plots
