"""A run: the plan that describes it as plain data (:mod:`~core.run.plan`), the one path that turns a
plan into a trained run (:mod:`~core.run.execute`; a single run is an ensemble of one), its evaluation,
the folder it is stored in and checked by (:mod:`~core.run.store`, :mod:`~core.run.integrity`), and the
fitted run that predicts new rows, freshly trained (:mod:`~core.run.result`) or loaded
(:mod:`~core.run.loaded`)."""
