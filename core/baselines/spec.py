"""What a baseline declares (:class:`BaselineSpec`), what it is fitted on (:class:`BaselineRows`)
and what a fitted baseline answers (:class:`Fitted`).

Two kinds:

- *trained*: a configuration trained through today's path (``execute``) beside the hybrid, on the
  same seeds and folds: ``configuration(plan, targets) -> RunPlan`` (``nn``, ``one_q10``);
- *fitted*: ``fit(rows) -> Fitted`` on the hybrid's own training rows of one seed and fold, then
  scored on its validation rows (``rf``, ``qrf``, ``rosetta3``, ``network_reco``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from core.datasets import HybridData
from core.errors import DataError
from core.models import ModelSpec
from core.run.plan import RunPlan
from core.formatting import short_repr


@dataclass(frozen=True)
class BaselineRows:
    """The rows a fitted baseline learns from: the hybrid's split of one seed and fold.

    Parameters
    ----------
    data : HybridData
        Every row the hybrid saw (its frame keeps the file's other columns).
    predictors, forcing, targets : list of str
        The hybrid's covariates, forcing variables and targets (model names).
    train, val : numpy.ndarray, shape (n_train,), (n_val,)
        Row positions of the hybrid's training and validation rows (calibration rows are in neither).
    seed : int
        The run's seed.
    model : str
        The hybrid's model name.
    derived : object, optional
        Quantities scored from the fitted baseline's predictions at rows of ``data`` outside both
        splits (AWC of a retention model: :class:`core.baselines.awc.FittedAwc`):
        ``derived.score(fitted) -> {name: metrics}``.
    """

    data: HybridData
    predictors: list[str]
    forcing: list[str]
    targets: list[str]
    train: np.ndarray
    val: np.ndarray
    seed: int
    model: str = ""
    derived: object | None = None

    def features(self, rows: np.ndarray) -> np.ndarray:
        """(n, p + f) the predictors and then the forcing columns of ``rows`` (what ``nn`` sees), float64."""
        columns = list(self.predictors) + [self.data.forcing[f] for f in self.forcing]
        return self.data.frame[columns].iloc[rows].to_numpy(dtype=np.float64)

    def observed(self, target: str, rows: np.ndarray) -> np.ndarray:
        """(n,) observations of ``target`` on ``rows`` (NaN where missing)."""
        return self.data.frame[self.data.targets[target]].iloc[rows].to_numpy(dtype=np.float64)

    def forcing_values(self, name: str, rows: np.ndarray) -> np.ndarray:
        """(n,) the forcing ``name`` (model name, e.g. ``h`` in cm) on ``rows``."""
        return self.data.frame[self.data.forcing[name]].iloc[rows].to_numpy(dtype=np.float64)


class Fitted(Protocol):
    """A fitted baseline. ``predict(rows)``: target -> (n,) point predictions on row positions.
    A baseline with a predictive distribution also has ``quantiles(rows, probabilities)``:
    target -> (Q, n) quantiles at the Q probabilities."""

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class BaselineSpec:
    """A method people use instead of the hybrid.

    Parameters
    ----------
    name, description : str
        The name ``--baselines`` takes and one line about the method.
    applies : callable
        ``applies(model, data, targets) -> None`` where it can run, else the reason it cannot (one
        line): model a :class:`~core.models.ModelSpec`, data the loaded :class:`HybridData`.
    fit : callable, optional
        ``fit(rows: BaselineRows) -> Fitted`` for a fitted baseline.
    configuration : callable, optional
        ``configuration(plan, targets) -> RunPlan`` for a baseline trained through ``execute``.
    reference : str
        Where the method comes from (package, paper).
    """

    name: str
    description: str
    applies: Callable[[ModelSpec, HybridData, list[str]], str | None]
    fit: Callable[[BaselineRows], Fitted] | None = None
    configuration: Callable[[RunPlan, list[str]], RunPlan] | None = None
    reference: str = ""

    def __post_init__(self):
        if (self.fit is None) == (self.configuration is None):
            raise ValueError(f"baseline {self.name}: give either fit or configuration")

    @property
    def trained(self) -> bool:
        """True for a configuration trained beside the hybrid, False for a fitted baseline."""
        return self.configuration is not None


def applies_anywhere(model: ModelSpec, data: HybridData, targets: list[str]) -> str | None:
    """Every model and data set (rf, qrf, nn)."""
    return None


def find_column(data: HybridData, names: tuple[str, ...], what: str, required: bool = True) -> str | None:
    """The data column for a soil property: a predictor named one of ``names`` (case ignored), else
    any column so named, else the one column whose name starts with one of them (``sand_pct``);
    DataError naming the columns when there is none or several (None if not ``required``)."""
    columns = [str(c) for c in data.frame.columns]
    for pool in (data.predictors, columns):
        exact = [c for c in pool if c.lower() in names]
        if exact:
            return exact[0]
    prefixed = [c for c in columns if c.lower().startswith(names)]
    if len(prefixed) == 1:
        return prefixed[0]
    if not required:
        return None
    found = f"several: {', '.join(prefixed)}" if prefixed else f"the data have {', '.join(columns[:20])}"
    raise DataError(f"data {short_repr(data.name)}: no single column for {what} (looked for {', '.join(names)}; "
                    f"{found}); rename the column")
