"""Histograms of every neural parameter across samples, with their bounds."""
from __future__ import annotations

import holoviews as hv
import numpy as np

import core
from core.formatting import number

from .base import View, empty, register


@register
class ParameterHistograms(View):
    offer = "parameters"
    depends = ("snapshot", "rows")
    title = "Neural parameters across samples (red: bounds)"
    order = 10

    def render(self, state):
        neural = [r for r in state.rows if r.role == "neural"]
        if state.snapshot is None or not neural:
            return empty("histograms of neural parameters appear during training" if neural else "no neural parameters")
        plots = []
        for r in neural:
            values = state.snapshot.parameters[r.pname].to_numpy()
            edges = np.linspace(r.lower, r.upper, 41) if r.scale == "linear" else np.geomspace(r.lower, r.upper, 41)
            counts, edges = np.histogram(values, bins=edges)
            histogram = hv.Histogram((edges, counts), kdims=[r.pname], vdims=["samples"]).opts(
                logx=r.scale == "log", color="#2ca02c")
            bounds = hv.VLine(r.lower).opts(color="red") * hv.VLine(r.upper).opts(color="red")
            share = core.share_at_bound(values, r)
            plots.append((histogram * bounds).opts(title=f"{r.pname} ({r.unit}): {number(100 * share, 0)} % at a bound",
                                                   fontsize={"title": 9}, width=260, height=200))
        return plots
