"""Identifiability from an ensemble (seeds, folds) of one configuration: which learned parameters
the data pin down. ``scores``: the agreement scores and verdict; ``ensemble``: members read back
from a sweep folder; ``combinations``: products and ratios of unidentified parameters;
``analysis``: one ensemble; ``fit``: whether it fits at all (``run_fit``: one run's targets); ``twin_data`` and ``twins``: twin
experiments that take the verdicts from recovery of a known truth; ``report``: the files a sweep writes. See docs/identifiability.md."""
from core.identify.analysis import NO_VERDICT, analyse, apply_twins, site_spread
from core.identify.ensemble import Ensemble, sweep_ensembles
from core.identify.run_fit import MIN_ALPHA, target_fit_problems
from core.identify.report import JSON_FILE, MARKDOWN_FILE, after_sweep, identify, write_identifiability
from core.identify.scores import IDENTIFIED, WEAK, global_agreement, pairwise_correlation, site_agreement, verdict
from core.identify.twins import TwinDesign, merge_twin_scores, run_twins, train_twin, twin_calls

__all__ = ["MIN_ALPHA", "target_fit_problems", "NO_VERDICT", "apply_twins", "TwinDesign", "merge_twin_scores", "run_twins", "train_twin", "twin_calls",
           "after_sweep", "site_spread", "Ensemble", "sweep_ensembles", "analyse", "identify", "write_identifiability", "JSON_FILE",
           "MARKDOWN_FILE", "IDENTIFIED", "WEAK", "site_agreement", "pairwise_correlation", "global_agreement",
           "verdict"]
