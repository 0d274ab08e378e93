"""Plant-available water capacity scored on measured retention curves, for every method alike.

The observed AWC of a sample is theta(pF 1.8) - theta(pF 4.2) (the retention model's own
definition, :func:`core.models.swrc.awc`), read off the sample's measured points: theta is
interpolated linearly in pF between the two measured points around each suction. A sample
counts only where its points reach each suction, or come within :data:`PF_REACH` of it (lab
curves often end at 15,000 or 15,300 cm, pF 4.18, just short of pF 4.2); there the nearest
measured theta is taken as it is. Every method predicts theta at the two suctions for the
sample's soil (its first row's predictors), and its AWC is the difference: scored with the same
metrics as theta, on the validation samples of each split.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.datasets import HybridData
from core.metrics import all_metrics
from core.models import ModelSpec
from core.models.swrc import H_FIELD_CAPACITY, H_WILTING_POINT

NAME = "awc"
#: how far (in pF) a sample's measured points may end short of a suction and still give its theta
PF_REACH = 0.05
SUCTIONS_PF = (float(np.log10(H_FIELD_CAPACITY)), float(np.log10(H_WILTING_POINT)))
DESCRIPTION = (f"AWC = θ(pF {SUCTIONS_PF[0]:.1f}) − θ(pF {SUCTIONS_PF[1]:.1f}); observed: interpolated linearly in pF "
               f"between each validation sample's measured points (samples whose points reach both suctions, or end "
               f"within {PF_REACH} pF of one); predicted: each method's θ at the two suctions for the sample's soil")


def applies(model: ModelSpec, targets: list[str]) -> bool:
    """True for a retention model: target theta at forcing suction h (cm)."""
    return "theta" in targets and "h" in model.forcing


def theta_at(pf: np.ndarray, theta: np.ndarray, at: float) -> float:
    """theta at pF ``at`` from one sample's measured points (pF, theta); NaN where they do not reach it."""
    order = np.argsort(pf, kind="stable")
    pf, theta = pf[order], theta[order]
    if len(pf) == 0 or at < pf[0] - PF_REACH or at > pf[-1] + PF_REACH:
        return float("nan")
    unique, index = np.unique(pf, return_inverse=True)  # repeated suctions: their mean theta
    means = np.bincount(index, weights=theta) / np.bincount(index)
    return float(np.interp(at, unique, means))


@dataclass(frozen=True)
class AwcQueries:
    """Every sample with an observed AWC, and the rows at which a method predicts it.

    Parameters
    ----------
    samples : numpy.ndarray, shape (m,)
        Curve ids (as text): the model's curve column (``sample_id``) where the data have it, else
        the data's id column.
    observed : numpy.ndarray, shape (m,)
        Observed AWC, m³ m⁻³.
    frame : pandas.DataFrame, shape (2m, columns)
        Each sample's first row twice, its suction column set to pF 1.8 and then pF 4.2 (cm),
        its targets NaN: rows ``2i`` and ``2i + 1`` belong to ``samples[i]``.
    """

    samples: np.ndarray
    observed: np.ndarray
    frame: pd.DataFrame
    #: (n,) the curve id (text) of every row of the data
    curve_of_row: np.ndarray

    def rows_of(self, rows: np.ndarray) -> np.ndarray:
        """(k,) positions in ``samples``/``observed`` of the curves that data rows ``rows`` (a split's
        validation rows) belong to, for those with an observed AWC."""
        wanted = set(self.curve_of_row[np.asarray(rows, dtype=np.int64)])
        return np.flatnonzero([s in wanted for s in self.samples])

    def score(self, which: np.ndarray, theta: np.ndarray) -> dict:
        """The metrics of AWC for samples ``which`` from (2k,) predicted theta at their two suctions,
        with ``n_samples``."""
        predicted = theta[0::2] - theta[1::2]
        scores = all_metrics(self.observed[which], predicted)[0]
        return {**scores, "n_samples": int(len(which))}

    def query_rows(self, which: np.ndarray) -> np.ndarray:
        """(2k,) rows of ``frame`` for samples ``which``, in pairs."""
        return np.column_stack([2 * which, 2 * which + 1]).reshape(-1)


def curve_column(model: ModelSpec, data: HybridData) -> str:
    """The column that names one measured curve: the model's response-curve group where the data
    have it (a profile holds several horizons, each its own curve), else the data's id."""
    group = getattr(model.response_curve, "group", None)
    return group if group in data.frame.columns else data.id


def awc_queries(model: ModelSpec, data: HybridData) -> AwcQueries | None:
    """The curves of ``data`` with an observed AWC (None when none has one)."""
    frame = data.frame
    h_column = data.forcing["h"]
    theta_column = data.targets["theta"]
    ids = frame[curve_column(model, data)].astype(str).to_numpy()
    h = frame[h_column].to_numpy(dtype=np.float64)
    theta = frame[theta_column].to_numpy(dtype=np.float64)
    ok = np.isfinite(h) & (h > 0) & np.isfinite(theta)
    samples, observed, first = [], [], []
    for sample, positions in pd.Series(np.arange(len(frame))).groupby(ids, sort=False):
        rows = positions.to_numpy()
        rows = rows[ok[rows]]
        pf = np.log10(h[rows])
        fc, wp = (theta_at(pf, theta[rows], at) for at in SUCTIONS_PF)
        if np.isfinite(fc) and np.isfinite(wp):
            samples.append(sample), observed.append(fc - wp), first.append(positions.to_numpy()[0])
    if not samples:
        return None
    queries = frame.iloc[np.repeat(first, 2)].reset_index(drop=True).copy()
    queries[h_column] = np.tile([H_FIELD_CAPACITY, H_WILTING_POINT], len(samples))
    for column in data.targets.values():
        queries[column] = np.nan
    return AwcQueries(np.asarray(samples), np.asarray(observed, dtype=np.float64), queries, ids)


def with_queries(data: HybridData, queries: AwcQueries) -> HybridData:
    """``data`` with the query rows appended after its own (positions ``len(data.frame) + j``), for
    a fitted baseline to predict them beside its validation rows."""
    frame = pd.concat([data.frame.reset_index(drop=True), queries.frame], ignore_index=True)
    return replace(data, frame=frame)


@dataclass(frozen=True)
class FittedAwc:
    """AWC of a fitted baseline on one split: its validation samples' query rows, as positions in
    the data the baseline was fitted with (the data with the queries appended)."""

    queries: AwcQueries
    which: np.ndarray
    offset: int

    def score(self, fitted) -> dict:
        """name -> the AWC metrics of ``fitted`` (a :class:`~core.baselines.spec.Fitted`)."""
        if not len(self.which):
            return {}
        theta = fitted.predict(self.offset + self.queries.query_rows(self.which))["theta"]
        return {NAME: self.queries.score(self.which, theta)}


def run_awc(queries: AwcQueries, member) -> dict:
    """name -> the AWC metrics of a trained run (an experiment's member) on its validation curves."""
    from core.run.prediction import predict_table

    which = queries.rows_of(member.val_rows)
    if not len(which):
        return {}
    frame = queries.frame.iloc[queries.query_rows(which)].reset_index(drop=True)
    theta = predict_table(member.model, member.config, frame)["theta_pred"].to_numpy(dtype=np.float64)
    return {NAME: queries.score(which, theta)}


__all__ = ["AwcQueries", "DESCRIPTION", "FittedAwc", "NAME", "PF_REACH", "applies", "awc_queries", "run_awc",
           "theta_at", "with_queries"]
