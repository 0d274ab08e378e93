"""The one registry of uncertainty: interval methods and the sources of samples they widen.

- :class:`IntervalMethod`: how a ``level`` interval is built from a :class:`Predictive` and, for a
  conformal method, the calibration scores whose quantile sets its width; one file each in
  ``core/uncertainty/methods/`` defining ``SPEC``.
- :class:`SampleSource`: where the samples of a prediction come from (an ensemble's members,
  MC-dropout passes, none); one file each in ``core/uncertainty/sources/``; a run uses the first
  source, in ``rank`` order, that applies to its model.

:func:`bounds`, :func:`nonconformity` and :func:`reliability` dispatch through it, so no caller
branches on a method's name.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from core.errors import HybridlabError
from core.registry import Registry
from core.uncertainty.predictive import Predictive, conformal_quantile

#: nominal levels of a reliability diagram
RELIABILITY_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass(frozen=True)
class UncertaintySpec:
    """What every entry of :data:`UNCERTAINTY` has: a ``name``, a one-line ``description`` and a
    ``rank`` (the order of listing)."""

    name: str
    description: str
    rank: int


@dataclass(frozen=True)
class IntervalMethod(UncertaintySpec):
    """An interval method.

    ``bounds(predictive, level, noise, quantile) -> (lower, upper)``, each (n,), target units;
    ``scores(observed, predictive, noise, level) -> (n,)`` the conformal calibration scores, or None
    for a method that is not conformal (its ``quantile`` is NaN). ``noise``: whether it fits the
    noise sd on the calibration sites; ``relative``: whether it has a relative-noise variant.
    """

    bounds: Callable[..., tuple] = None
    scores: Callable[..., np.ndarray] | None = None
    noise: bool = True
    relative: bool = False

    @property
    def conformal(self) -> bool:
        return self.scores is not None


@dataclass(frozen=True)
class SampleSource(UncertaintySpec):
    """A source of samples: ``applies(model) -> bool``; ``draw(model, tensors, centre, passes, seed)
    -> (centre (n, T), samples (S, n, T))``, ``centre`` the model's own predictions ((n, T), or
    (K, n, T) for an ensemble). ``passes``: whether it draws a chosen number of passes."""

    applies: Callable[[object], bool] = None
    draw: Callable[..., tuple] = None
    passes: bool = False


UNCERTAINTY: Registry[UncertaintySpec] = Registry(
    "interval method or sample source", UncertaintySpec,
    package=("core.uncertainty.methods", "core.uncertainty.sources"), attribute="SPEC",
    order=lambda s: (isinstance(s, SampleSource), s.rank))


def _of(kind: type, what: str, name: str):
    spec = UNCERTAINTY.get(name) if name in UNCERTAINTY else None
    if not isinstance(spec, kind):
        raise HybridlabError(f"unknown {what} {name!r}; registered: {', '.join(names(kind))}")
    return spec


def names(kind: type) -> list[str]:
    """The registered names of one kind (:class:`IntervalMethod` or :class:`SampleSource`)."""
    return [s.name for s in UNCERTAINTY.values() if isinstance(s, kind)]


def interval_method(name: str) -> IntervalMethod:
    return _of(IntervalMethod, "interval method", name)


def sample_source(name: str) -> SampleSource:
    return _of(SampleSource, "sample source", name)


def source_for(model) -> SampleSource:
    """The first sample source, by rank, that applies to ``model``."""
    return next(s for s in UNCERTAINTY.values() if isinstance(s, SampleSource) and s.applies(model))


def nonconformity(method: str, observed: np.ndarray, predictive: Predictive, noise: float, level: float) -> np.ndarray:
    """(n,) the calibration scores of a conformal method."""
    return interval_method(method).scores(observed, predictive, noise, level)


def bounds(method: str, predictive: Predictive, level: float, noise: float, quantile: float = math.nan
           ) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper), each (n,), of the ``level`` interval; ``quantile`` is the conformal quantile
    of a conformal method at this level."""
    return interval_method(method).bounds(predictive, level, noise, quantile)


def reliability(method: str, calibration: tuple[np.ndarray, Predictive], reported: tuple[np.ndarray, Predictive],
                noise: float, levels=RELIABILITY_LEVELS) -> list[dict]:
    """Observed coverage on the reported rows at each nominal level, each interval calibrated on
    the calibration rows: [{"level", "coverage"}]. calibration, reported: (observed, Predictive)."""
    spec, rows = interval_method(method), []
    for level in levels:
        quantile = math.nan
        if spec.conformal:
            quantile = conformal_quantile(spec.scores(*calibration, noise, level), level)
        lower, upper = spec.bounds(reported[1], level, noise, quantile)
        known = np.isfinite(reported[0])
        y = reported[0][known]
        coverage = float(np.mean((y >= lower[known]) & (y <= upper[known]))) if len(y) else math.nan
        rows.append({"level": level, "coverage": coverage})
    return rows


__all__ = ["IntervalMethod", "RELIABILITY_LEVELS", "SampleSource", "UNCERTAINTY", "UncertaintySpec", "bounds",
           "interval_method", "names", "nonconformity", "reliability", "sample_source", "source_for"]
