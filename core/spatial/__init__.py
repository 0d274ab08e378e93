"""Where a model may be trusted in space: the split's geometry (:mod:`~core.spatial.geometry`: how
far validation sites lie from their nearest training site). The spatial blocks of a split are in
:mod:`core.training.blocks`."""
