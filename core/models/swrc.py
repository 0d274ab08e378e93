"""Soil water retention after Lebeau & Konrad (2010): capillary plus adsorbed water.

    theta_c = 0.5 * theta_s * erfc(ln(h / h_m) / (sqrt(2) * sigma))
    theta_a = theta_o * (1 - ln(h) / ln(h_d)) * (1 - theta_c / theta_s)
    theta   = theta_c + theta_a

Suction h in cm of water (pF = log10 h), water contents in m³ m⁻³. Plant-available water
capacity AWC = theta(pF 1.8) - theta(pF 4.2). See ``docs/science.md``.
"""
from __future__ import annotations

import math

import torch

from core.hybrid.parameters import Parameter, ParameterSet
from core.models.spec import ModelSpec, ResponseCurve

H_FIELD_CAPACITY = 10 ** 1.8   # cm
H_WILTING_POINT = 10 ** 4.2    # cm


def lebeau_konrad(h, theta_s, h_m, sigma, theta_o, h_d=10 ** 6.8) -> dict:
    """Water content at suction h (cm, > 0); tensors of any matching shape.
    Returns ``theta``, ``theta_a`` (adsorbed) and ``theta_c`` (capillary), m³ m⁻³."""
    # dtype and device of the first tensor argument; plain numbers compute in float64
    first = next((v for v in (h, theta_s, h_m, sigma, theta_o, h_d) if isinstance(v, torch.Tensor)
                  and v.is_floating_point()), None)
    dtype = first.dtype if first is not None else torch.float64
    h = torch.as_tensor(h, dtype=dtype, device=None if first is None else first.device)
    as_t = lambda v: torch.as_tensor(v, dtype=dtype, device=h.device)  # noqa: E731
    theta_s, h_m, sigma, theta_o, h_d = map(as_t, (theta_s, h_m, sigma, theta_o, h_d))
    theta_c = 0.5 * theta_s * torch.special.erfc(torch.log(h / h_m) / (math.sqrt(2.0) * sigma))
    theta_a = theta_o * (1.0 - torch.log(h) / torch.log(h_d)) * (1.0 - theta_c / theta_s)
    return {"theta": theta_c + theta_a, "theta_a": theta_a, "theta_c": theta_c}


def awc(theta_s, h_m, sigma, theta_o, h_d=10 ** 6.8) -> torch.Tensor:
    """Plant-available water capacity theta(pF 1.8) - theta(pF 4.2), m³ m⁻³."""
    fc = lebeau_konrad(H_FIELD_CAPACITY, theta_s, h_m, sigma, theta_o, h_d)["theta"]
    wp = lebeau_konrad(H_WILTING_POINT, theta_s, h_m, sigma, theta_o, h_d)["theta"]
    return fc - wp


def derived(parameters: dict) -> dict:
    """Quantities computed from a soil's parameters alone (for prediction as a pedotransfer function)."""
    return {"awc": awc(**parameters)}


def parameters() -> ParameterSet:
    return ParameterSet(
        [
            Parameter("theta_s", "saturated water content", "m³ m⁻³", 0.45, 0.25, 0.75, role="neural"),
            Parameter("h_m", "suction at the median capillary pore radius", "cm", 100.0, 1.0, 1e5, scale="log",
                      role="neural"),
            Parameter("sigma", "standard deviation of log capillary pore radius", "-", 1.5, 0.3, 5.0, role="neural"),
            Parameter("theta_o", "adsorbed water content parameter", "m³ m⁻³", 0.05, 0.0, 0.3, role="neural"),
            Parameter("h_d", "suction at oven dryness", "cm", 10 ** 6.8, 10 ** 6.5, 10 ** 7, scale="log", role="fixed"),
        ],
        presets={
            "default": {"theta_s": "neural", "h_m": "neural", "sigma": "neural", "theta_o": "neural", "h_d": "fixed"},
            "all_global": {"theta_s": "global", "h_m": "global", "sigma": "global", "theta_o": "global",
                           "h_d": "fixed"},
        },
    )


MODEL = ModelSpec(
    name="swrc",
    description="Soil water retention, Lebeau–Konrad (capillary + adsorbed water), target theta",
    function=lebeau_konrad,
    parameters=parameters,
    forcing=("h",),
    units={"theta": "m3 m-3", "h": "cm", "awc": "m3 m-3"},
    targets=("theta",),
    default_data="swrc-synthetic",
    nonnegative=frozenset({"theta", "h"}),
    positive=frozenset({"h"}),
    log_forcing=("h",),
    derived=derived,
    explain_feature="oc",
    response_curve=ResponseCurve(forcing="h", target="theta", lower=1.0, upper=10 ** 6.5, log=True,
                                 group="sample_id"),
    # the report's set-up: two hidden layers of 32, tanh, Adam lr 0.01, batch 1024
    defaults={"hidden": (32, 32), "activation": "tanh", "dropout": 0.0, "optimizer": "adam", "lr": 0.01,
              "batch_size": 1024, "epochs": 1000, "patience": 100},
    aliases={"theta": ("water_content", "vwc", "swc"), "h": ("suction", "head", "matric_head")},
)
