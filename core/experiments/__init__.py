"""Experiments: several runs with fixed settings, compared in one results folder.

Each module here defines ``EXPERIMENT = Experiment(...)``: a name, a description, its
configurations (name -> :class:`~core.run.plan.RunPlan`, from the shared
:class:`~core.experiments.base.ExperimentOptions`) and a ``report`` that writes results, tables
and figures from the finished runs. ``soc``: the report's four configurations on LUCAS-like data;
``swrc``: the retention hybrid with and without bulk density, AWC and Shapley values.
"""
from __future__ import annotations

from core.experiments.base import Experiment, ExperimentOptions, run_experiment
from core.experiments.reference import VALIDATION_KGE
from core.registry import Registry

#: the experiments by name, one module each
EXPERIMENTS: Registry[Experiment] = Registry("experiment", Experiment, package="core.experiments",
                                             attribute="EXPERIMENT", skip=("base", "reference"))


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; one line naming the registered ones otherwise."""
    return EXPERIMENTS.get(name)


def analyse_run(run, *, experiment: str, configuration: str, options: dict) -> None:
    """The sweep task's analysis hook (``base.ANALYSE_HOOK``): experiment ``experiment``'s analyse
    step on a finished run of ``configuration``, on the worker, before the run is written."""
    found = get_experiment(experiment)
    if found.analyse is not None:
        found.analyse(configuration, run, ExperimentOptions(**options))


__all__ = ["analyse_run", "VALIDATION_KGE", "EXPERIMENTS", "Experiment", "ExperimentOptions", "get_experiment", "run_experiment"]
