"""Learned against true parameters, where the data carry ``true_<name>`` columns."""
from __future__ import annotations

import holoviews as hv
import numpy as np

from core.evaluation import correlation
from core.formatting import number

from .base import MAX_POINTS, View, empty, register


@register
class LearnedVsTrue(View):
    offer = "parameters"
    depends = ("snapshot", "data", "rows")
    title = "Learned vs true"
    order = 40

    def render(self, state):
        if state.snapshot is None or state.data is None:
            return empty("learned vs true appears during training")
        truth = state.data.truth_columns()
        plots = []
        for r in state.rows:
            if r.role == "fixed" or r.pname not in truth:
                continue
            true = state.data.frame[truth[r.pname]].to_numpy()
            learned = state.snapshot.parameters[r.pname].to_numpy()
            if len(true) > MAX_POINTS:
                index = np.random.default_rng(0).choice(len(true), MAX_POINTS, replace=False)
                true, learned = true[index], learned[index]
            low, high = float(min(true.min(), learned.min())), float(max(true.max(), learned.max()))
            dims = [f"true {r.pname}", f"learned {r.pname}"]  # own dimension names: no axis linking across plots
            points = hv.Points((true, learned), kdims=dims).opts(size=2, alpha=0.4)
            line = hv.Curve([(low, low), (high, high)], kdims=dims[:1], vdims=dims[1:]).opts(color="black")
            plots.append((points * line).opts(title=f"{r.pname} ({r.role}): r {number(correlation(true, learned), 2)}",
                                              fontsize={"title": 9}, width=260, height=240))
        return plots if plots else empty("these data carry no true parameters")
