"""A pool against its capacity, predicted and observed (the SOC model's MOC / q_max, the
report's Figure 8), for models that declare a ``saturation``."""
from __future__ import annotations

from core.formatting import label
from core.plots import saturation_histograms

from app.ui.views.base import View, empty, register


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
        return saturation_histograms(snapshot.predictions, snapshot.parameters[capacity].to_numpy(), target, capacity)
