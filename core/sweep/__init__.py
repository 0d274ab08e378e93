"""Sweeps: many runs of one question (seeds, folds, role configurations, settings) on the Dask
executor (:mod:`core.executor`). ``plan``: the sweep as plain data and its tasks; ``task``: what a
worker does with one; ``runner``: a sweep into its folder, with resume; ``results``: the table
and the mean ± sd summary."""
from .plan import SWEEP_FILE, SweepPlan, SweepTask
from .results import summarize
from .runner import ExecutorOptions, SweepOutcome, run_sweep
from .task import FAILED, FINISHED, run_task

__all__ = ["SWEEP_FILE", "SweepPlan", "SweepTask", "ExecutorOptions", "SweepOutcome", "run_sweep", "run_task",
           "summarize", "FAILED", "FINISHED"]
