"""Training: the settings (:mod:`~core.training.config`), the splits of rows into training and
validation sites (:mod:`~core.training.splits`), the tensors of a split, the multi-task loss, and the one
epoch loop (:mod:`~core.training.loop`) that trains K >= 1 members with early stopping each."""
