"""Interval methods, one file each defining ``SPEC = IntervalMethod(...)`` (:mod:`core.uncertainty.registry`)."""
