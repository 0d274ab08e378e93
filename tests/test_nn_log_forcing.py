"""The pure network seeing a forcing as log10 (suction h as pF): the ``log10_<forcing>`` option of
the ``nn`` model, and the ``nn`` baseline turning it on for a model whose forcing spans decades."""
import pytest
import torch

from core.baselines import get_baseline
from core.errors import DataError, HybridlabError
from core.hybrid.pure_network import NeuralNetwork
from core.hybrid.network import NetworkConfig
from core.models import build_model, get_model
from core.run.plan import RunPlan

SMALL = NetworkConfig(hidden=(8,), activation="tanh", dropout=0.0)


def _inputs(model: NeuralNetwork, x, h):
    model.set_normalization(x, h, torch.zeros(len(x), 1))
    return model.network_input(x, h)


def test_log_forcing_standardises_log10_of_the_forcing_and_leaves_predictors_as_they_are():
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    h = torch.tensor([[1.0], [10.0], [1000.0], [1e6]])
    logged = _inputs(NeuralNetwork(["clay"], ["h"], ["theta"], SMALL, log_forcing=["h"]), x, h)
    raw = _inputs(NeuralNetwork(["clay"], ["h"], ["theta"], SMALL), x, h)
    pf = torch.tensor([0.0, 1.0, 3.0, 6.0])
    expected = (pf - pf.mean()) / pf.std(unbiased=False)
    assert torch.allclose(logged[:, 1], expected, atol=1e-5)
    assert torch.allclose(logged[:, 0], raw[:, 0])
    # raw cm: the three wettest points crowd together below the mean, far from 1e6
    assert float(raw[2, 1] - raw[0, 1]) < 0.01 < float(logged[2, 1] - logged[0, 1])


def test_log_forcing_refuses_a_non_positive_training_value_naming_the_forcing():
    model = NeuralNetwork(["clay"], ["temp", "h"], ["theta"], SMALL, log_forcing=["h"])
    forcing = torch.tensor([[5.0, 10.0], [6.0, 0.0]])
    with pytest.raises(DataError, match="forcing h: values <= 0.*log10_h"):
        model.set_normalization(torch.ones(2, 1), forcing, torch.zeros(2, 1))


def test_nn_options_are_log10_of_a_forcing_and_nothing_else():
    nn = get_model("nn")
    assert nn.check_options({"log10_h": 1}) == {"log10_h": 1}
    assert nn.check_options({}) == {}
    with pytest.raises(HybridlabError, match="no option 'penalty'.*log10_<forcing>"):
        nn.check_options({"penalty": 1})
    with pytest.raises(HybridlabError, match="'log10_h' of model 'nn' is 0 or 1, got 2"):
        nn.check_options({"log10_h": 2})
    with pytest.raises(DataError, match="option log10_temp of model 'nn': the run has no forcing 'temp'"):
        nn.build(predictors=["clay"], forcing=["h"], targets=["theta"], parameters=None,
                             network=SMALL, options={"log10_temp": 1})


def test_a_saved_nn_model_config_rebuilds_with_its_log_forcing():
    config = {"name": "nn", "predictors": ["clay"], "forcing": ["temp", "h"], "targets": ["theta"],
              "parameters": [], "network": SMALL.to_dict(), "options": {"log10_h": 1, "log10_temp": 0}}
    model = build_model(config)
    assert model.log_columns == [1]


def test_the_nn_baseline_gives_the_network_pf_for_retention_and_raw_temperature_for_respiration():
    configuration = get_baseline("nn").configuration
    assert get_model("swrc").log_forcing == ("h",)
    swrc = configuration(RunPlan(model="swrc"), ["theta"])
    assert swrc.model == "nn" and swrc.options == {"log10_h": 1}
    assert configuration(RunPlan(model="respiration"), ["reco"]).options == {}
