import pytest
import torch

from core.errors import HybridlabError
from core.hybrid.model import HybridModel
from core.hybrid.pure_network import NeuralNetwork
from core.models import get_model
from core.hybrid.network import Dropout, NetworkConfig
from core.hybrid.parameters import Parameter, ParameterSet

SMALL = NetworkConfig(hidden=(16, 8), activation="tanh", dropout=0.0)


def toy(temp, a, b, c):
    return {"y": a * torch.exp(b * temp) + c, "penalty_b": (b - 0.5) ** 2}


def toy_parameters():
    return ParameterSet([
        Parameter("a", "scale", "-", 1.0, 0.1, 10.0, scale="log", role="neural"),
        Parameter("b", "rate", "1/K", 0.1, 0.0, 0.2, role="global"),
        Parameter("c", "offset", "-", 0.5, 0.0, 1.0, role="fixed", value=0.25),
    ])


def _model(**kw):
    return HybridModel(["x1", "x2", "x3"], ["temp"], ["y"], toy, toy_parameters(), SMALL, **kw)


def test_parameters_stay_in_bounds_for_any_input():
    torch.manual_seed(0)
    model = _model()
    x = torch.cat([torch.randn(100, 3) * 1e4, torch.full((1, 3), -1e8), torch.full((1, 3), 1e8)])
    with torch.no_grad():
        for lay in model.net:
            if isinstance(lay, torch.nn.Linear):
                lay.weight.mul_(50)
        out = model(x, torch.randn(len(x), 1))
    for p in toy_parameters():
        v = out.parameters[p.name]
        assert v.shape == (len(x),)
        assert torch.all(v >= p.lower) and torch.all(v <= p.upper), p.name
    assert torch.all(out.parameters["c"] == 0.25)


def test_learned_parameters_get_gradients_and_fixed_do_not_change():
    torch.manual_seed(0)
    model = _model()
    x, temp = torch.randn(64, 3), torch.randn(64, 1) * 5
    y = 2.0 * torch.exp(0.12 * temp[:, 0]) + 0.25
    model.set_normalization(x, temp, y[:, None])
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    fixed_before = model.fixed_values.clone()
    for _ in range(5):
        out = model(x, temp)
        loss = ((out.predictions[:, 0] - y) ** 2).mean() + out.penalty
        opt.zero_grad()
        loss.backward()
        assert model.global_logits.grad is not None and model.global_logits.grad.abs().sum() > 0
        assert model.net[-1].weight.grad.abs().sum() > 0
        opt.step()
    assert torch.equal(model.fixed_values, fixed_before)
    assert not model.fixed_values.requires_grad
    assert all(b is not model.fixed_values for b in model.parameters())


def test_penalty_terms_are_summed_and_returned():
    model = _model()
    with torch.no_grad():
        out = model(torch.randn(5, 3), torch.randn(5, 1))
    assert out.penalty is not None
    b = out.parameters["b"][0]
    assert float(out.penalty) == pytest.approx(float((b - 0.5) ** 2))


def test_global_parameter_starts_at_its_default():
    model = _model()
    out = model(torch.randn(3, 3), torch.zeros(3, 1))
    assert float(out.parameters["b"][0].detach()) == pytest.approx(0.1, rel=1e-5)


def test_function_without_argument_for_a_parameter_is_named():
    def f(temp, a, b):
        return {"y": a * temp}
    with pytest.raises(HybridlabError, match="no argument for 'c'"):
        HybridModel(["x1"], ["temp"], ["y"], f, toy_parameters(), SMALL)


def test_missing_target_output_is_named():
    model = HybridModel(["x1", "x2", "x3"], ["temp"], ["z"], toy, toy_parameters(), SMALL)
    with pytest.raises(HybridlabError, match="no output for target.*'z'"):
        model(torch.randn(4, 3), torch.randn(4, 1))


def test_all_global_model_needs_no_network():
    ps = toy_parameters().set_roles({"a": "global"})
    model = HybridModel([], ["temp"], ["y"], toy, ps, SMALL)
    assert model.net is None
    out = model(torch.zeros(4, 0), torch.randn(4, 1))
    assert out.predictions.shape == (4, 1)


def test_neural_network_baseline_outputs_targets_in_data_units():
    torch.manual_seed(0)
    nn_model = NeuralNetwork(["x1", "x2"], ["temp"], ["a", "b"], NetworkConfig())
    assert [m.p for m in nn_model.net if isinstance(m, Dropout)] == [0.3, 0.3, 0.3]
    assert [m.out_features for m in nn_model.net if isinstance(m, torch.nn.Linear)] == [256, 128, 64, 32, 2]
    x, f = torch.randn(50, 2), torch.randn(50, 1)
    y = torch.stack([torch.full((50,), 100.0), torch.full((50,), 0.01)], 1) + torch.randn(50, 2) * torch.tensor([10, 0.001])
    nn_model.set_normalization(x, f, y)
    nn_model.eval()
    with torch.no_grad():
        out = nn_model(x, f)
    assert out.predictions.shape == (50, 2) and out.parameters == {}
    assert 50 < float(out.predictions[:, 0].mean()) < 150


def test_registry_finds_models_and_template_is_not_registered():
    from core.models import model_names
    names = model_names()
    assert "respiration" in names and "nn" in names and "linear_reservoir" not in names
    spec = get_model("respiration")
    assert spec.targets == ("reco",)


def test_parameters_of_a_role_are_scaled_together_as_each_would_be_alone():
    from core.hybrid.network import UnitScale

    params = [Parameter("a", "linear, wide", "-", 500.0, 0.0, 2000.0),
              Parameter("b", "log", "-", 1.0, 0.01, 100.0, scale="log"),
              Parameter("c", "linear", "-", 0.5, 0.05, 0.95)]
    s = torch.rand(64, 3, requires_grad=True)
    v = UnitScale(params)(s)
    for j, p in enumerate(params):
        assert torch.allclose(v[:, j], p.from_unit(s[:, j]), rtol=1e-6)
        assert bool(((v[:, j] >= p.lower) & (v[:, j] <= p.upper)).all())
    v.sum().backward()
    assert torch.isfinite(s.grad).all()  # exp of the wide linear column never enters the gradient
