"""What a run or a study shows people: interactive plots (:mod:`~core.report.plots`), static figures
for run folders (:mod:`~core.report.figures`), Markdown tables (:mod:`~core.report.tables`) and Shapley
values (:mod:`~core.report.explain`)."""

from core.report.explain import parameter_function, shapley_values
from core.report.plots import (MAX_POINTS, interval_reliability, learned_vs_true, parameter_histogram,
                               saturation_histograms, use_bokeh)

__all__ = ["MAX_POINTS", "interval_reliability", "learned_vs_true", "parameter_function", "parameter_histogram",
           "saturation_histograms", "shapley_values", "use_bokeh"]
