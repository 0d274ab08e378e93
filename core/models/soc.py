"""Five-pool soil organic carbon model at steady state (POC, DOC, MBC, enzymes, MOC).

Pools after Georgiou et al. (2017) with density-dependent microbial turnover k_b * MBC**beta
(He et al. 2024) and Langmuir sorption of DOC onto minerals with capacity q_max. All pools in
g C kg⁻¹ soil, rates per year, temperature scaling k(T) = k_ref * q10 ** ((T - 15) / 10).
The analytic steady state is derived in ``docs/science.md``; see :func:`steady_state`.
"""
from __future__ import annotations

import numpy as np
import torch

from core.hybrid.parameters import Parameter, ParameterSet
from core.models.spec import ModelSpec

T_REF = 15.0

# name, meaning, unit, default, lower, upper, scale, roles in (all_global, five_neural, all_neural)
_TABLE = [
    ("cue", "carbon use efficiency", "-", 0.4, 0.05, 0.8, "linear", "GNN"),
    ("q_max", "Langmuir MOC capacity", "g C kg⁻¹", 30.0, 1.0, 200.0, "linear", "GNN"),
    ("f_poc", "share of litter entering POC (rest to DOC)", "-", 0.7, 0.05, 0.95, "linear", "GNN"),
    ("v_max0", "depolymerisation rate at 15 °C", "yr⁻¹", 20.0, 0.5, 500.0, "log", "GNN"),
    ("k_m0", "half-saturation of depolymerisation", "g C kg⁻¹", 50.0, 1.0, 1000.0, "log", "GNN"),
    ("v_up0", "uptake rate at 15 °C", "yr⁻¹", 50.0, 1.0, 2000.0, "log", "GGN"),
    ("k_up", "half-saturation of uptake", "g C kg⁻¹", 1.0, 0.01, 100.0, "log", "GGN"),
    ("k_b", "microbial turnover at 15 °C", "kg g⁻¹ yr⁻¹ (beta=2)", 7.0, 0.1, 100.0, "log", "GGN"),
    ("p_e", "enzyme production", "yr⁻¹", 0.1, 0.001, 1.0, "log", "GGN"),
    ("k_e", "enzyme turnover", "yr⁻¹", 10.0, 0.5, 100.0, "log", "GGN"),
    ("k_ads", "adsorption rate at 15 °C", "yr⁻¹", 8.0, 0.05, 200.0, "log", "GGN"),
    ("k_des", "desorption rate at 15 °C", "yr⁻¹", 0.05, 0.001, 5.0, "log", "GGN"),
    ("in_frac", "share of NPP entering 0–20 cm", "-", 0.5, 0.05, 1.0, "linear", "FFF"),
    ("q10_vmax", "Q10 of depolymerisation", "-", 2.0, 1.98, 2.16, "linear", "FFF"),
    ("q10_up", "Q10 of uptake", "-", 2.0, 1.98, 2.16, "linear", "FFF"),
    ("q10_kb", "Q10 of microbial turnover", "-", 2.0, 1.98, 2.16, "linear", "FFF"),
    ("q10_ads", "Q10 of adsorption", "-", 1.08, 1.0, 1.5, "linear", "FFF"),
    ("q10_des", "Q10 of desorption", "-", 1.34, 1.0, 2.0, "linear", "FFF"),
]
_ROLE = {"G": "global", "N": "neural", "F": "fixed"}
DEFAULTS = {row[0]: row[3] for row in _TABLE} | {"beta": 2.0}
FIVE_NEURAL = ("cue", "q_max", "f_poc", "v_max0", "k_m0")


def _q10(q10, dt):
    """Temperature factor q10 ** dt with dt = (T - T_REF) / 10 computed once per call."""
    return q10 ** dt


def steady_state(npp, temp, soil_mass=260.0, *, cue=0.4, q_max=30.0, f_poc=0.7, v_max0=20.0, k_m0=50.0,
                 v_up0=50.0, k_up=1.0, k_b=7.0, p_e=0.1, k_e=10.0, k_ads=8.0, k_des=0.05, in_frac=0.5,
                 q10_vmax=2.0, q10_up=2.0, q10_kb=2.0, q10_ads=1.08, q10_des=1.34, beta=2.0,
                 x_cap=0.99, x_soft=0.9, feasibility_weight=10.0) -> dict:
    """Steady-state pools of the five-pool model.

    npp: g C m⁻² yr⁻¹; temp: °C; soil_mass: kg soil m⁻² (0–20 cm); parameters as in the spec
    (tensors or numbers of any broadcastable shape, float32 or float64; units in
    ``docs/science.md``). beta is 1 or 2.

    Returns tensors ``soc, moc, poc, mbc, doc, enz`` (g C kg⁻¹), ``moc_qmax_ratio``, ``x_d`` and
    ``x_p`` (uncapped saturation of uptake and depolymerisation), ``feasible`` (1 where both
    are below 1), and ``penalty_feasibility`` = feasibility_weight * relu(x - x_soft)**2 summed
    over x_d and x_p, per site (the model adds its mean over sites to the loss). Where a site is infeasible x is capped at ``x_cap`` so the result
    stays finite; the penalty pushes parameters back before they reach the cap.
    """
    npp = torch.as_tensor(npp)
    dtype = npp.dtype if npp.is_floating_point() else torch.get_default_dtype()
    as_t = lambda v: torch.as_tensor(v, dtype=dtype, device=npp.device)  # noqa: E731
    npp, temp, soil_mass = as_t(npp), as_t(temp), as_t(soil_mass)
    cue, q_max, f_poc, v_max0, k_m0, v_up0, k_up, k_b, p_e, k_e, k_ads, k_des, in_frac, beta = map(
        as_t, (cue, q_max, f_poc, v_max0, k_m0, v_up0, k_up, k_b, p_e, k_e, k_ads, k_des, in_frac, beta))

    dt = (temp - T_REF) / 10.0
    litter = in_frac * npp / soil_mass                      # g C kg⁻¹ yr⁻¹
    uptake = litter / (1.0 - cue)                           # respiration balances input
    kb = k_b * _q10(as_t(q10_kb), dt)
    # beta = 2, written to avoid cancellation: B = (-p_e + sqrt(p_e² + 4 kb cue U)) / (2 kb)
    mbc2 = 2.0 * cue * uptake / (p_e + torch.sqrt(p_e * p_e + 4.0 * kb * cue * uptake))
    mbc1 = cue * uptake / (kb + p_e)
    mbc = torch.where(beta > 1.5, mbc2, mbc1)
    enz = p_e * mbc / k_e
    x_d = uptake / (v_up0 * _q10(as_t(q10_up), dt) * mbc)
    x_p = f_poc * litter / (v_max0 * _q10(as_t(q10_vmax), dt) * mbc)
    xd_c, xp_c = x_d.clamp(max=x_cap), x_p.clamp(max=x_cap)
    doc = k_up * xd_c / (1.0 - xd_c)
    poc = k_m0 * xp_c / (1.0 - xp_c)
    ads = k_ads * _q10(as_t(q10_ads), dt) * doc
    moc = q_max * ads / (k_des * _q10(as_t(q10_des), dt) * q_max + ads)
    soc = poc + doc + mbc + enz + moc
    excess = torch.relu(x_d - x_soft) ** 2 + torch.relu(x_p - x_soft) ** 2
    return {
        "soc": soc, "moc": moc, "poc": poc, "mbc": mbc, "doc": doc, "enz": enz,
        "moc_qmax_ratio": moc / q_max, "x_d": x_d, "x_p": x_p,
        "feasible": ((x_d < 1.0) & (x_p < 1.0)).to(dtype),
        "penalty_feasibility": feasibility_weight * excess,
    }


def moc_capacity(parameters: dict, observed: dict, moc_capacity_weight: float = 0.0, **_) -> torch.Tensor | None:
    """Observed MOC cannot exceed the Langmuir capacity q_max at a site: the loss term
    moc_capacity_weight * mean(relu(observed MOC / q_max - 1)) over the rows with observed MOC,
    i.e. relu(observed MOC - q_max) in units of the site's q_max (so the weight is unitless).
    None when the weight is 0 (the default) or MOC is not a target."""
    moc = observed.get("moc")
    if not moc_capacity_weight or moc is None:
        return None
    known = torch.isfinite(moc)
    if not bool(known.any()):
        return None
    excess = torch.relu(moc[known] / parameters["q_max"][known] - 1.0)
    return moc_capacity_weight * excess.mean()


def parameters() -> ParameterSet:
    params = [Parameter(n, d, u, dv, lo, hi, scale=s, role=_ROLE[r[1]]) for n, d, u, dv, lo, hi, s, r in _TABLE]
    params.append(Parameter("beta", "microbial turnover exponent (2: density dependent, 1: linear)", "-",
                            2.0, 1.0, 2.0, role="fixed", allowed_roles=("fixed",), choices=(1.0, 2.0)))
    presets = {name: {n: _ROLE[r[i]] for n, *_, r in _TABLE}
               for i, name in enumerate(("all_global", "five_neural", "all_neural"))}
    return ParameterSet(params, presets)


def diagnostics(outputs: dict, parameters: dict, observed: dict) -> dict:
    """Feasibility and the MOC / q_max saturation, predicted and observed (arrays per site)."""
    q_max = parameters["q_max"]
    pred_ratio = outputs["moc_qmax_ratio"]
    obs_moc = observed.get("moc")
    res = {
        "infeasible_fraction": float(1.0 - np.mean(outputs["feasible"])),
        "moc_qmax_ratio": {"predicted": _ratio_summary(pred_ratio)},
    }
    if obs_moc is not None:
        ok = np.isfinite(obs_moc)
        res["moc_qmax_ratio"]["observed"] = _ratio_summary(obs_moc[ok] / q_max[ok])
    res["warnings"] = _capacity_warnings(res["moc_qmax_ratio"]["predicted"], q_max)
    return res


#: below this median of predicted MOC / q_max, sorption is nearly linear and q_max is not identified
UNSATURATED_RATIO = 0.2


def _capacity_warnings(predicted: dict, q_max: np.ndarray) -> list[str]:
    """Where predicted MOC / q_max is small at most sites, the Langmuir term is in its linear range
    (MOC ≈ k_ads · DOC / k_des): the data then do not constrain the capacity q_max."""
    median = predicted.get("median")
    if median is None or median >= UNSATURATED_RATIO:
        return []
    return [f"q_max is not identified: predicted MOC / q_max has median {median:.2g} (below {UNSATURATED_RATIO:g}), "
            f"so sorption runs in its linear range (MOC ≈ k_ads · DOC / k_des) and the learned q_max (median "
            f"{float(np.nanmedian(q_max)):.3g} g C kg⁻¹) says nothing about a capacity; fix it, make it global, or "
            f"set it against a published capacity envelope"]


def _ratio_summary(r: np.ndarray) -> dict:
    r = r[np.isfinite(r)]
    if len(r) == 0:
        return {"median": None, "share_above_1": None, "n": 0}
    return {"median": float(np.median(r)), "share_above_1": float(np.mean(r > 1.0)), "n": int(len(r))}


MODEL = ModelSpec(
    name="soc",
    description="Five-pool SOC model at steady state (Q10, Langmuir q_max), targets SOC, MOC, POC, MBC",
    function=steady_state,
    parameters=parameters,
    forcing=("npp", "temp"),
    optional_forcing=("soil_mass",),
    units={"soc": "g C kg-1", "moc": "g C kg-1", "poc": "g C kg-1", "mbc": "g C kg-1", "npp": "g C m-2 yr-1",
           "temp": "degC", "soil_mass": "kg m-2"},
    targets=("soc", "moc", "poc", "mbc"),
    default_data="lucas-synthetic",
    default_roles="five_neural",
    nonnegative=frozenset({"soc", "moc", "poc", "mbc", "npp", "soil_mass"}),
    positive=frozenset({"npp", "soil_mass"}),
    diagnostics=diagnostics,
    tracked=("feasible",),
    options={"x_cap": 0.99, "x_soft": 0.9, "feasibility_weight": 10.0, "moc_capacity_weight": 0.0},
    constraint=moc_capacity,
    saturation=("moc", "q_max"),
    # for small x_p, POC ≈ k_m0 · f_poc · I / (v_max0 · MBC): POC pins down only this ratio
    combinations={"f_poc*k_m0/v_max0": (("f_poc", 1), ("k_m0", 1), ("v_max0", -1))},
    # LUCAS's OC; the fraction names of SOC fraction studies; climate names of covariate stacks
    aliases={"soc": ("oc", "organic_carbon"), "moc": ("maoc", "maom"), "poc": ("pom",),
             "temp": ("mat", "temperature", "bio1"), "npp": ("npp_mean",)},
)
