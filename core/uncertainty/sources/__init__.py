"""Sources of prediction samples, one file each defining ``SPEC = SampleSource(...)`` (:mod:`core.uncertainty.registry`)."""
