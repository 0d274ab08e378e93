"""The hybrid model: a mechanistic model's parameters (:mod:`~core.hybrid.parameters`, the
``ParameterSet`` of roles global / neural / fixed), the network that predicts the neural ones per site
(:mod:`~core.hybrid.network`), the two joined (:mod:`~core.hybrid.model`) and K members of it stacked
into one model (:mod:`~core.hybrid.members`). The mechanistic models themselves are in :mod:`core.models`."""
