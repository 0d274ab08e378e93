"""The methods people use instead of the hybrid, run on the same split and scored by the same
metrics: one registry (:data:`BASELINES`) of :class:`BaselineSpec`, one file per baseline.

- ``nn``: the pure network (trained through ``execute``, as a configuration beside the hybrid);
- ``rf``: scikit-learn's random forest; ``qrf``: a quantile regression forest (``quantile-forest``)
  with its quantiles as the interval, scored like the hybrid's (coverage, width, CRPS);
- ``rosetta3``: the Rosetta3 pedotransfer function (``rosetta-soil``), for retention;
- ``one_q10``: the classical respiration fit, every parameter global (``all_global`` roles);
- ``network_reco``: the flux network's night-time partitioned Reco (``RECO_NT_*``), not trained.

:func:`core.baselines.experiment.run_comparison` runs the hybrid and the baselines over seeds and
folds and writes ``results.md`` and ``results.json`` (``hybridlab experiment MODEL --baselines``).
"""
from __future__ import annotations

from core.errors import HybridlabError
from core.baselines.spec import BaselineRows, BaselineSpec, Fitted
from core.registry import Registry

#: every baseline, the pure network first, then by name; a new one is one file defining ``BASELINE``
BASELINES: Registry[BaselineSpec] = Registry("baseline", BaselineSpec, package=__name__, attribute="BASELINE",
                                             skip=("spec", "experiment", "comparison", "report", "scoring", "forest", "on_run", "awc"),
                                             order=lambda s: (s.name != "nn", s.name))


def get_baseline(name: str) -> BaselineSpec:
    """The registered baseline called ``name``; one line naming them all otherwise.

    Parameters
    ----------
    name : str
        e.g. ``rf``, ``qrf``, ``rosetta3``.

    Returns
    -------
    BaselineSpec
    """
    return BASELINES.get(name)


def parse_baselines(text: str) -> list[BaselineSpec]:
    """``nn,rf,qrf`` -> the specs, in order, each once; one line for an unknown or repeated name."""
    names = [n.strip() for n in str(text).split(",") if n.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise HybridlabError(f"--baselines names {', '.join(repeated)} more than once")
    return [get_baseline(n) for n in names]


__all__ = ["BASELINES", "BaselineRows", "BaselineSpec", "Fitted", "get_baseline", "parse_baselines"]
