"""Ecosystem respiration with a Q10 temperature response: the smallest hybrid example.

    reco = rb * q10 ** ((temp - t_ref) / 10)

rb (base respiration at t_ref) varies in space and time and is predicted by the network;
q10 is one global value; t_ref is fixed.
"""
from __future__ import annotations

import torch

from core.hybrid.parameters import Parameter, ParameterSet
from core.models.spec import ModelSpec


def respiration(temp: torch.Tensor, rb: torch.Tensor, q10: torch.Tensor, t_ref: torch.Tensor) -> dict:
    """temp in °C, rb in µmol m⁻² s⁻¹; returns {"reco"} with the shape of temp."""
    return {"reco": rb * q10 ** ((temp - t_ref) / 10.0)}


def parameters() -> ParameterSet:
    return ParameterSet(
        [
            Parameter("rb", "base respiration at t_ref", "µmol m⁻² s⁻¹", 3.0, 0.0, 15.0, role="neural"),
            Parameter("q10", "temperature sensitivity (factor per 10 °C)", "-", 2.0, 1.0, 4.0, role="global"),
            Parameter("t_ref", "reference temperature", "°C", 15.0, 0.0, 30.0, role="fixed"),
        ],
        presets={
            "default": {"rb": "neural", "q10": "global", "t_ref": "fixed"},
            "all_global": {"rb": "global", "q10": "global", "t_ref": "fixed"},
            "all_neural": {"rb": "neural", "q10": "neural", "t_ref": "fixed"},
        },
    )


MODEL = ModelSpec(
    name="respiration",
    description="Ecosystem respiration, Rb(x) * Q10^((T - Tref)/10)",
    function=respiration,
    parameters=parameters,
    forcing=("temp",),
    units={"reco": "umol m-2 s-1", "temp": "degC"},
    targets=("reco",),
    default_data="respiration-synthetic",
    nonnegative=frozenset({"reco"}),
    # a small problem: a small network, no dropout and more updates per epoch than batch 2048 gives
    defaults={"hidden": (32, 32), "activation": "tanh", "dropout": 0.0, "batch_size": 256,
              "optimizer": "adam", "lr": 0.005, "epochs": 300, "patience": 40},
    # FLUXNET2015's names (night-time partitioned RECO, air temperature) and common short ones
    aliases={"reco": ("reco_nt_vut_ref", "reco_nt", "respiration"), "temp": ("ta_f", "ta", "tair", "t_air")},
)
