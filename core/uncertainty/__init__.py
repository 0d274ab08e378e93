"""Prediction intervals: a prediction as samples and the scores of an interval
(:mod:`~core.uncertainty.predictive`); one registry (:mod:`~core.uncertainty.registry`) of the interval
methods (``methods/``, one file each) and of the sources of samples (``sources/``: an ensemble's members,
MC-dropout, none); their calibration on held-out sites and validation (:mod:`~core.uncertainty.calibration`)."""
