"""Experiments: several runs with fixed settings, compared in one results folder.

Each module here defines ``EXPERIMENT = Experiment(...)``: a name, a description, its
configurations (name -> :class:`~core.run.plan.RunPlan`, from the shared
:class:`~core.experiments.base.ExperimentOptions`) and a ``report`` that writes results, tables
and figures from the finished runs. ``soc``: the report's four configurations on LUCAS-like data;
``swrc``: the retention hybrid with and without bulk density, AWC and Shapley values.
"""
from __future__ import annotations

from core.errors import HybridlabError
from core.experiments.base import Experiment, ExperimentOptions, run_experiment
from core.experiments.reference import VALIDATION_KGE
from core.experiments.soc import EXPERIMENT as SOC
from core.experiments.swrc import EXPERIMENT as SWRC
from core.formatting import short_repr

EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (SOC, SWRC)}


def get_experiment(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise HybridlabError(f"unknown experiment {short_repr(name)}; use one of {', '.join(EXPERIMENTS)}") from None


def analyse_run(run, *, experiment: str, configuration: str, options: dict) -> None:
    """The sweep task's analysis hook (``base.ANALYSE_HOOK``): experiment ``experiment``'s analyse
    step on a finished run of ``configuration``, on the worker, before the run is written."""
    found = get_experiment(experiment)
    if found.analyse is not None:
        found.analyse(configuration, run, ExperimentOptions(**options))


__all__ = ["analyse_run", "VALIDATION_KGE", "EXPERIMENTS", "Experiment", "ExperimentOptions", "get_experiment", "run_experiment"]
