"""Prediction intervals: the interval methods (:mod:`~core.uncertainty.methods`) and their calibration
on held-out sites and validation (:mod:`~core.uncertainty.calibration`)."""
