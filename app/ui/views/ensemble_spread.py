"""How far an ensemble's members disagree at each site, per neural parameter: a histogram of the
across-member sd (of log10 values for a log-scale parameter) and, where the data have
coordinates, a map of it."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd

from app.ui.views.base import View, empty, register


@register
class EnsembleSpread(View):
    offer = "parameters"
    depends = ("ensemble", "data")
    title = "Ensemble spread per site"
    columns = 2
    order = 60

    def render(self, state):
        spread = (state.ensemble or {}).get("spread") or {}
        if not spread or state.data is None:
            return empty("train an ensemble (2 or more seeds) to see how its members disagree per site")
        verdicts = state.ensemble["identifiability"]["parameters"]
        frame = state.data.frame
        mapped = {"lat", "lon"} <= set(frame.columns)
        plots = []
        for name, values in spread.items():
            entry = verdicts.get(name, {})
            title = f"{name}: {entry.get('verdict', '')} ({entry.get('agreement', np.nan):.2f})"
            label = state.ensemble.get("spread_label", {}).get(name, f"sd of {name}")
            counts, edges = np.histogram(values[np.isfinite(values)], bins=30)
            plots.append(hv.Histogram((edges, counts), kdims=[label], vdims=["sites"]).opts(
                title=title, width=360, height=260, tools=["hover"]))
            if mapped:
                table = pd.DataFrame({"lon": frame["lon"].to_numpy(), "lat": frame["lat"].to_numpy(), "sd": values})
                plots.append(hv.Points(table, ["lon", "lat"], "sd").opts(
                    color="sd", cmap="magma", colorbar=True, size=2, title=f"{name}: sd across members",
                    width=360, height=300, tools=["hover"]))
        return plots
