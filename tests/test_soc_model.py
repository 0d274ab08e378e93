"""The five-pool SOC model: analytic steady state against numerical integration of its ODEs."""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from core.models.soc import DEFAULTS, parameters, steady_state


def _rates(p, npp, temp, soil_mass):
    f = lambda q10: q10 ** ((temp - 15.0) / 10.0)  # noqa: E731
    return dict(I=p["in_frac"] * npp / soil_mass, vmax=p["v_max0"] * f(p["q10_vmax"]), vup=p["v_up0"] * f(p["q10_up"]),
                kb=p["k_b"] * f(p["q10_kb"]), kads=p["k_ads"] * f(p["q10_ads"]), kdes=p["k_des"] * f(p["q10_des"]))


def _odes(p, r):
    def rhs(_, y):
        P, D, B, E, M = y
        dep = r["vmax"] * B * P / (p["k_m0"] + P)
        upt = r["vup"] * B * D / (p["k_up"] + D)
        dth = r["kb"] * B ** p["beta"]
        ep, et = p["p_e"] * B, p["k_e"] * E
        sorp = r["kads"] * D * (1 - M / p["q_max"]) - r["kdes"] * M
        return [p["f_poc"] * r["I"] - dep,
                (1 - p["f_poc"]) * r["I"] + dep + dth + et - upt - sorp,
                p["cue"] * upt - dth - ep,
                ep - et,
                sorp]
    return rhs


def _random_feasible(rng, beta):
    ps = parameters()
    while True:
        p = dict(DEFAULTS, beta=beta)
        for q in ps:
            if q.name != "beta" and q.name in ("cue", "q_max", "f_poc", "v_max0", "k_m0", "v_up0", "k_up", "k_b",
                                               "p_e", "k_e", "k_ads", "k_des", "in_frac"):
                p[q.name] = float(q.from_unit(torch.tensor(rng.uniform(0.05, 0.95), dtype=torch.float64)))
        npp, temp = rng.uniform(150, 1000), rng.uniform(-3, 20)
        out = steady_state(torch.tensor(npp, dtype=torch.float64), temp, 260.0, **p)
        if out["x_d"] < 0.8 and out["x_p"] < 0.8:
            return p, npp, temp, out


@pytest.mark.slow
@pytest.mark.parametrize("beta", [2.0, 1.0])
def test_steady_state_matches_numerical_integration(beta):
    rng = np.random.default_rng(7 if beta == 2 else 8)
    for _ in range(6):
        p, npp, temp, out = _random_feasible(rng, beta)
        r = _rates(p, npp, temp, 260.0)
        sol = solve_ivp(_odes(p, r), (0, 1e7), [1.0, 0.1, 0.1, 0.01, 1.0], method="Radau",
                        rtol=1e-11, atol=1e-13)
        assert sol.success
        P, D, B, E, M = sol.y[:, -1]
        rhs = np.abs(_odes(p, r)(0, sol.y[:, -1]))
        assert rhs.max() < 1e-9, "integration did not reach a steady state"
        for name, num in zip(("poc", "doc", "mbc", "enz", "moc"), (P, D, B, E, M)):
            ana = float(out[name])
            assert abs(ana - num) / abs(num) < 1e-6, (name, ana, num, p)
        assert float(out["soc"]) == pytest.approx(P + D + B + E + M, rel=1e-6)


def test_defaults_give_realistic_topsoil_values():
    npp = torch.tensor([250.0, 500.0, 900.0], dtype=torch.float64)
    out = steady_state(npp, torch.tensor([-2.0, 8.0, 20.0], dtype=torch.float64))
    assert torch.all((out["soc"] > 10) & (out["soc"] < 60))
    assert torch.all((out["mbc"] > 0.1) & (out["mbc"] < 0.8))
    assert torch.all(out["feasible"] == 1)


def test_poc_ignores_input_with_linear_turnover_but_not_with_quadratic():
    npp = torch.tensor([200.0, 400.0, 800.0], dtype=torch.float64)
    lin = steady_state(npp, 10.0, beta=1.0)["poc"]
    quad = steady_state(npp, 10.0, beta=2.0)["poc"]
    assert torch.allclose(lin, lin[0].expand(3), rtol=1e-12)
    assert quad[2] > quad[1] * 1.05 > quad[0] * 1.1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_any_shape_and_dtype(dtype):
    npp = torch.full((4, 3), 500.0, dtype=dtype)
    temp = torch.linspace(0, 20, 3, dtype=dtype)
    out = steady_state(npp, temp, q_max=torch.full((4, 1), 40.0, dtype=dtype))
    for key in ("soc", "moc", "poc", "mbc", "doc", "enz", "moc_qmax_ratio"):
        assert out[key].shape == (4, 3) and out[key].dtype == dtype
    assert torch.all(out["moc_qmax_ratio"] < 1)


def test_infeasible_parameters_stay_finite_with_gradient_and_penalty():
    v_max0 = torch.tensor([0.5, 20.0], dtype=torch.float64, requires_grad=True)   # first site: x_p >> 1
    v_up0 = torch.tensor([1.0, 50.0], dtype=torch.float64, requires_grad=True)    # first site: x_d >> 1
    out = steady_state(torch.tensor([900.0, 500.0], dtype=torch.float64), torch.tensor([-3.0, 15.0], dtype=torch.float64),
                       v_max0=v_max0, v_up0=v_up0)
    assert out["feasible"].tolist() == [0.0, 1.0]
    assert torch.isfinite(out["soc"]).all()
    loss = out["soc"].sum() + out["penalty_feasibility"].mean()
    loss.backward()
    assert torch.isfinite(v_max0.grad).all() and v_max0.grad[0] < 0  # penalty pushes v_max0 up
    assert torch.isfinite(v_up0.grad).all() and v_up0.grad[0] < 0
    assert float(out["penalty_feasibility"].mean().detach()) > 0
    off = steady_state(torch.tensor([900.0]), torch.tensor([-3.0]), v_max0=0.5, feasibility_weight=0.0)
    assert float(off["penalty_feasibility"].max()) == 0.0


def test_presets_follow_the_spec():
    ps = parameters()
    assert [n for n, r in ps.presets["five_neural"].items() if r == "neural"] == ["cue", "q_max", "f_poc", "v_max0", "k_m0"]
    assert set(ps.presets["all_global"].values()) == {"global", "fixed"}
    assert sum(r == "neural" for r in ps.presets["all_neural"].values()) == 12
    assert ps["v_max0"].scale == "log" and ps["q_max"].scale == "linear"
    from core.errors import ParameterError
    with pytest.raises(ParameterError, match="'beta' can only be fixed"):
        ps.set_role("beta", "neural")
    with pytest.raises(ParameterError, match="'beta' must be one of 1, 2"):
        ps.update("beta", value=1.5)
