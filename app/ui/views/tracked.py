"""Model outputs the history tracks (their validation mean per epoch), e.g. the share of sites
where the SOC model has a steady state."""
from __future__ import annotations

import holoviews as hv
import pandas as pd

from core import HistoryColumns

from app.ui.views.base import View, empty, register


@register
class TrackedOutputs(View):
    tab = "Model"
    offer = "tracked"
    depends = ("history",)
    title = "Tracked outputs: validation mean over the epochs"
    columns = 2
    order = 20

    def render(self, state):
        names = [n for n in self.spec.tracked if state.history and HistoryColumns.tracked_mean(n) in state.history[-1]]
        if not names:
            return empty("tracked outputs appear after the first epoch")
        history = pd.DataFrame(state.history)
        plots = []
        for name in names:
            column = HistoryColumns.tracked_mean(name)
            plots.append(hv.Curve(history, "epoch", (column, f"mean {name}")).opts(
                title=f"validation mean of {name}: {history[column].iloc[-1]:.3f}", width=360, height=240,
                color="#d62728"))
        return plots
