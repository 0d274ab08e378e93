"""A finished run in memory: :class:`Run`, what :func:`core.run.execute.execute` returns. Its
``plots`` draw it (:mod:`core.report.plots`), ``save`` writes its folder (:mod:`core.run.store`) and
``predict`` takes new rows, as the folder read back does (:class:`core.run.prediction.FittedRun`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from core.datasets import HybridData
from core.run.evaluation import Snapshot
from core.run.plan import RunPlan
from core.run.prediction import FittedRun
from core.run.store import INTERVALS_FIGURE, STRATA_FIGURE, run_config, write_run
from core.training.loop import TrainResult
from core.spatial.applicability import Applicability


@dataclass(kw_only=True)
class Run(FittedRun):
    """A finished run, built by keyword.

    Parameters
    ----------
    plan : RunPlan
        The plan it ran.
    model_config : dict
        The resolved model description (``model`` block of config.json).
    model : torch.nn.Module
        The trained model, holding the weights of the best epoch (CPU).
    data : HybridData
        The data it was trained on.
    train_rows, val_rows : numpy.ndarray, shape (n_train,), (n_val,)
        Row positions of the training and validation splits in ``data.frame``.
    result : TrainResult
        History, epochs run, best epoch and why training stopped.
    metrics : dict
        What metrics.json holds.
    predictions, parameters : pandas.DataFrame
        One row per site: observed and predicted targets; every parameter.
    outputs : dict
        Per-site model outputs, name -> (n,) array.
    extras : dict
        Results of analyses after training (an experiment's Shapley values); not saved.
    members_table : pandas.DataFrame, optional
        An ensemble's parameters and predictions per member (``member``, ``seed``, ``id``,
        ``split``, ...); None for a single run.
    calibration_rows : numpy.ndarray, shape (n_calibration,)
        Rows held out to calibrate prediction intervals (empty: none).
    calibration : dict, optional
        What calibration.json holds (:mod:`core.uncertainty.calibration`); None without calibration rows.
    applicability : Applicability, optional
        The DI's reference and AOA threshold (:mod:`core.spatial.applicability`); None without predictors.
    """

    plan: RunPlan
    model_config: dict
    model: torch.nn.Module
    data: HybridData
    train_rows: np.ndarray
    val_rows: np.ndarray
    result: TrainResult
    metrics: dict
    predictions: pd.DataFrame
    parameters: pd.DataFrame
    outputs: dict
    extras: dict = field(default_factory=dict)
    members_table: pd.DataFrame | None = None
    calibration_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    calibration: dict | None = None
    applicability: Applicability | None = None

    @property
    def history(self) -> pd.DataFrame:
        """One row per epoch (losses per target, learned global values, seconds)."""
        return pd.DataFrame(self.result.history)

    @property
    def config(self) -> dict:
        """What the run's config.json holds (:func:`core.run.store.run_config`): the plan, the model
        block and the data's columns; ``predict`` reads its columns from it."""
        return run_config(self)

    def final_snapshot(self) -> Snapshot:
        """The evaluation of the kept weights as a :class:`Snapshot` (for live views)."""
        return Snapshot(self.result.best_epoch, self.predictions, self.parameters, self.metrics["targets"],
                        self.outputs)

    @property
    def plots(self):
        """HoloViews figures of this run (:class:`core.report.plots.RunPlots`): ``scatter()``, ``kge()``,
        ``loss()``, ``parameters()``, ``saturation()``. HoloViews is imported on first use."""
        from core.report.plots import RunPlots

        return RunPlots(self)

    def save(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write the run folder (see :func:`core.run.store.write_run`); returns its path. A calibrated
        run also gets its intervals' reliability diagram and PIT histogram (intervals.png)."""
        figures = {}
        if self.calibration is not None:
            from core.report.figures import interval_reliability

            figures[INTERVALS_FIGURE] = lambda path: interval_reliability(self.calibration, path, title=self.plan.model)
            self._strata_figure(figures)
        return write_run(self, out, overwrite=overwrite, figures=figures)

    def _strata_figure(self, figures: dict) -> None:
        """Add reliability_by_stratum.png where ``scores_by`` holds coverage curves."""
        from core.report.reliability import calibrated_targets, strata_reliability

        scores_by = self.metrics.get("scores_by")
        if scores_by and calibrated_targets(scores_by):
            figures[STRATA_FIGURE] = lambda path: strata_reliability(scores_by, path, title=self.plan.model)
