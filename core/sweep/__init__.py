"""Sweeps: many runs of one question (seeds, folds, role configurations, settings) on the Dask
executor (:mod:`core.compute.executor`). ``plan``: the sweep as plain data and its tasks; ``task``: what a
worker does with one; ``runner``: a sweep into its folder, with resume; ``results``: the table
and the mean ± sd summary."""
from core.sweep.plan import MAX_RUNS, SWEEP_FILE, SweepPlan, SweepTask
from core.sweep.results import SUMMARY_MD, TABLE, read_table, summarize
from core.sweep.runner import RUNS, AfterSweep, ExecutorOptions, SweepOutcome, run_sweep
from core.sweep.task import FAILED, FINISHED, failure_row, metrics_row, run_task, run_tasks

__all__ = ["MAX_RUNS", "SWEEP_FILE", "SUMMARY_MD", "TABLE", "RUNS", "SweepPlan", "SweepTask", "AfterSweep", "ExecutorOptions",
           "SweepOutcome", "run_sweep", "run_task", "run_tasks", "failure_row", "metrics_row", "read_table",
           "summarize", "FAILED", "FINISHED"]
