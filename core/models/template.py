"""How to add a mechanistic model: copy this file to ``core/models/<name>.py`` and edit it.

This file itself is not registered (the registry skips ``template``). A model is three things:

1. a plain function taking forcing and parameters as keyword tensors (shape (n,) each) and
   returning a dict of tensors: every target, any diagnostics, and optionally ``penalty*``
   terms whose mean is added to the training loss (return them per site, shape (n,), so that
   an ensemble's members each get their own);
2. a :class:`ParameterSet` factory: name, meaning, unit, default, bounds, scale and a role for
   each parameter, plus named role presets;
3. a module-level ``MODEL = ModelSpec(...)`` naming the forcing and targets.

After that, ``hybridlab train --model <name>`` and the dashboard find the model by themselves.
The example below is a linear reservoir: storage S = tau * inflow, with tau predicted per site.
"""
from __future__ import annotations

import torch

from core.hybrid.parameters import Parameter, ParameterSet
from core.models.spec import ModelSpec


def linear_reservoir(inflow: torch.Tensor, tau: torch.Tensor, loss_frac: torch.Tensor) -> dict:
    """inflow in mm d⁻¹, tau in d; storage in mm."""
    return {"storage": tau * inflow * (1 - loss_frac)}


def parameters() -> ParameterSet:
    return ParameterSet(
        [
            Parameter("tau", "residence time", "d", 10.0, 0.5, 500.0, scale="log", role="neural"),
            Parameter("loss_frac", "share of inflow lost", "-", 0.1, 0.0, 0.5, role="global"),
        ],
        presets={"default": {"tau": "neural", "loss_frac": "global"}},
    )


MODEL = ModelSpec(
    name="linear_reservoir",
    description="Linear reservoir, S = tau * inflow * (1 - loss)",
    function=linear_reservoir,
    parameters=parameters,
    forcing=("inflow",),
    units={"storage": "mm"},
    targets=("storage",),
    default_data="",
    # optional: names users' files often give a variable (case ignored); the dashboard's form proposes them
    aliases={"inflow": ("q_in", "discharge")},
)
