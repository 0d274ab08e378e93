"""Global parameters over the epochs, against their bounds."""
from __future__ import annotations

import holoviews as hv
import pandas as pd

from core import HistoryColumns
from core.formatting import with_unit

from app.ui.views.base import View, empty, register


@register
class GlobalCurves(View):
    offer = "parameters"
    depends = ("history", "rows")
    title = "Global parameters over the epochs"
    order = 20

    def render(self, state):
        global_rows = [r for r in state.rows if r.role == "global"]
        if not state.history or not global_rows:
            return empty("global parameters appear after the first epoch" if global_rows else "no global parameters")
        history = pd.DataFrame(state.history)
        plots = []
        for r in global_rows:
            column = HistoryColumns.global_value(r.pname)
            if column not in history:
                continue
            curve = hv.Curve(history, "epoch", (column, r.pname)).opts(color="#9467bd", line_width=2)
            bounds = hv.HLine(r.lower).opts(color="red") * hv.HLine(r.upper).opts(color="red")
            plots.append((curve * bounds).opts(title=with_unit(f"{r.pname} = {history[column].iloc[-1]:.4g}", r.unit),
                                               fontsize={"title": 9}, logy=r.scale == "log", width=260, height=200))
        return plots if plots else empty("no global parameters")
