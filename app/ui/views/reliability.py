"""Whether a finished run's prediction intervals mean what they say: the reliability diagram of
each calibrated target on the validation sites (docs/uncertainty.md)."""
from __future__ import annotations

from core.report import interval_reliability

from app.ui.views.base import View, empty, register


@register
class IntervalReliability(View):
    tab = "Model"
    depends = ("run",)
    title = "Prediction intervals: nominal level vs coverage on validation sites"
    columns = 4
    order = 5

    def render(self, state):
        calibration = getattr(state.run, "calibration", None)
        if not calibration:
            return empty("tick '90 % intervals' in the training settings and train: each target's reliability "
                         "diagram appears here when the run finishes")
        plots = interval_reliability(calibration)
        return plots or empty("no target had enough calibration sites (50) for an interval")
