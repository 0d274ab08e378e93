"""Histograms of every neural parameter across samples, with their bounds."""
from __future__ import annotations

from core.report import parameter_histogram

from app.ui.views.base import View, empty, register


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
        return [parameter_histogram(state.snapshot.parameters[r.pname].to_numpy(), _Bounds(r)) for r in neural]


class _Bounds:
    """A set-up row seen as a parameter (name, unit, bounds, scale)."""

    def __init__(self, row):
        self.name, self.unit, self.lower, self.upper, self.scale = row.pname, row.unit, row.lower, row.upper, row.scale
