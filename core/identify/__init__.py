"""Identifiability from an ensemble (seeds, folds) of one configuration: which learned parameters
the data pin down. ``scores``: the agreement scores and verdict; ``ensemble``: members read back
from a sweep folder; ``combinations``: products and ratios of unidentified parameters;
``analysis``: one ensemble; ``report``: the files a sweep writes. See docs/identifiability.md."""
from .analysis import analyse, site_spread
from .ensemble import Ensemble, sweep_ensembles
from .report import JSON_FILE, MARKDOWN_FILE, after_sweep, identify, write_identifiability
from .scores import IDENTIFIED, WEAK, global_agreement, pairwise_correlation, site_agreement, verdict

__all__ = ["after_sweep", "site_spread", "Ensemble", "sweep_ensembles", "analyse", "identify", "write_identifiability", "JSON_FILE",
           "MARKDOWN_FILE", "IDENTIFIED", "WEAK", "site_agreement", "pairwise_correlation", "global_agreement",
           "verdict"]
