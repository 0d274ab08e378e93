"""Learned against true parameters, where the data carry ``true_<name>`` columns."""
from __future__ import annotations

from core.report import learned_vs_true

from app.ui.views.base import View, empty, register


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
            plots.append(learned_vs_true(learned=state.snapshot.parameters[r.pname].to_numpy(),
                                         true=state.data.frame[truth[r.pname]].to_numpy(), name=r.pname, role=r.role))
        return plots if plots else empty("these data carry no true parameters")
