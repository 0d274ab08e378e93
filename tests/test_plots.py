"""A finished run's HoloViews figures (run.plots), rendered with Bokeh as a notebook would."""
import holoviews as hv
import pytest

import core
from core.errors import HybridlabError


def _run(text):
    return core.execute(core.RunPlan.from_text(text))


@pytest.fixture(scope="module")
def soc_run():
    return _run("model: soc\nroles: five_neural\ndata: {name: lucas-synthetic, n: 300}\ntrain: {epochs: 3}")


@pytest.fixture(scope="module")
def respiration_run():
    return _run("model: respiration\ndata: {name: respiration-synthetic, n: 40}\ntrain: {epochs: 3}")


def _draws(element):
    return hv.render(element, backend="bokeh") is not None


@pytest.mark.slow  # trains several runs: end to end, out of the quick loop
def test_every_figure_of_a_soc_run_is_holoviews_and_draws(soc_run):
    plots = soc_run.plots
    targets = list(soc_run.metrics["targets"])
    scatter = plots.scatter()
    assert isinstance(scatter, hv.Layout) and len(scatter) == 2 * len(targets)
    assert len(plots.scatter("val")) == len(targets)
    assert "KGE" in scatter.values()[0].opts.get().kwargs["title"]
    kge = plots.kge()
    assert isinstance(kge, hv.Bars) and len(kge.data) == len(targets) * 4 * 2
    parameters = plots.parameters()
    neural = [p.name for p in soc_run.model.parameter_set if p.role == "neural"]
    # a histogram per neural parameter, then learned vs true for every non-fixed parameter with truth
    assert len(parameters) >= len(neural)
    assert [e.opts.get().kwargs["title"].split()[0] for e in parameters.values()[:len(neural)]] == neural
    saturation = plots.saturation()
    assert len(saturation) == 2 and "MOC / q_max" in saturation.values()[0].opts.get().kwargs["title"]
    assert isinstance(plots.loss(), hv.Overlay)
    for figure in (scatter, kge, parameters, saturation, plots.loss()):
        assert _draws(figure)


def test_a_model_without_saturation_says_which_models_have_one(respiration_run):
    with pytest.raises(HybridlabError, match="'respiration' declares no saturation.*soc"):
        respiration_run.plots.saturation()
    with pytest.raises(HybridlabError, match="split 'test'"):
        respiration_run.plots.scatter("test")
    assert _draws(respiration_run.plots.parameters())
