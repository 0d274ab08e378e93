"""Experiments: several runs with fixed settings, compared in one results folder.

``soc``: the report's four configurations on LUCAS-like data (:mod:`core.experiments.soc`);
``swrc``: the retention hybrid with and without bulk density, AWC and Shapley values
(:mod:`core.experiments.swrc`).
"""
from . import soc, swrc

EXPERIMENTS = {"soc": soc.run, "swrc": swrc.run}

__all__ = ["EXPERIMENTS"]
