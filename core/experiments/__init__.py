"""Experiments: several runs with fixed settings, compared in one results folder.

``soc``: the report's four configurations on LUCAS-like data (:mod:`core.experiments.soc`).
"""
from . import soc

EXPERIMENTS = {"soc": soc.run}

__all__ = ["EXPERIMENTS"]
