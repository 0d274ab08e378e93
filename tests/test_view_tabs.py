"""The Parameters and Model tabs redraw one stale view at a time, paced so that view redraws of all
sessions take a bounded share of the server's event loop."""
import time

import pytest

import core
from app.state.setup import Setup
from app.ui.view_tabs import RedrawPacer, ViewTab
from app.ui.views import Message, ViewState
from app.ui.views.base import Shown


def test_pacer_keeps_redraws_to_its_share_of_the_loop():
    pacer = RedrawPacer(budget=0.25)
    assert pacer.due(0.0)
    pacer.record(10.0, 10.4)  # a redraw of 0.4 s: the next waits 0.4 * 0.75 / 0.25 = 1.2 s
    assert not pacer.due(11.5) and pacer.due(11.7)
    with pytest.raises(core.HybridlabError, match="redraw budget"):
        RedrawPacer(budget=0)


@pytest.mark.slow  # trains or draws for seconds: out of the quick loop
def test_view_tab_redraws_one_stale_view_per_call_and_only_when_the_pacer_allows():
    setup = Setup(model_name="soc", n_sites=400, epochs=2)
    run = core.execute(setup.plan())
    tab = ViewTab("Parameters", setup, ViewState(setup=setup))
    tab.layout.get_root()  # builds the panes for the chosen model
    assert len(tab.panes) >= 3 and not any(p.stale for p in tab.panes)
    # the session moves on (the state reads it through): what the views draw from changed
    tab.state.session = Shown(history=run.history.to_dict("records"), snapshot=run.final_snapshot(), data=run.data,
                              spec=core.get_model("soc"))
    stale = sum(p.stale for p in tab.panes)
    assert stale >= 2  # what they draw from changed
    pacer = RedrawPacer()
    pacer.next_at = time.perf_counter() + 60  # another session just used the loop's share
    assert not tab.refresh(paced=True, pacer=pacer)
    assert tab.refresh(paced=False, pacer=pacer)  # a tab just opened is drawn at once
    assert sum(p.stale for p in tab.panes) == stale - 1
    # a role change makes the views that draw the rows stale again
    for pane in tab.panes:
        pane.drawn = pane._inputs()
    setup.rows[0].role = "fixed" if setup.rows[0].role != "fixed" else "global"
    assert any(p.stale for p in tab.panes)


# -- what the views draw from a finished run (no browser) -----------------------------------------

@pytest.fixture(scope="module")
def soc_run():
    return core.execute(Setup(model_name="soc", n_sites=300, epochs=2).plan())


def _grid_at(folder, west, east, south, north, drop=()):
    """The synthetic covariate grid (every covariate and forcing of lucas-synthetic) moved to
    ``west``-``east`` and ``south``-``north`` degrees, as Zarr; ``drop``: variables left out."""
    import numpy as np
    import xarray as xr
    from core.bench.maps import write_grid

    rows, columns = 20, 30
    write_grid(folder / "raw.zarr", (rows, columns), chunk=32)
    grid = xr.open_zarr(folder / "raw.zarr").load().drop_vars(list(drop))
    grid = grid.assign_coords(x=west + (np.arange(columns) + 0.5) * (east - west) / columns,
                              y=north - (np.arange(rows) + 0.5) * (north - south) / rows)
    path = folder / f"grid-{len(drop)}.zarr"
    grid.rio.write_crs("EPSG:4326").to_zarr(path, mode="w")
    return path


@pytest.mark.slow
def test_the_map_views_axis_ranges_equal_the_grids_bounds(soc_run, tmp_path):
    import holoviews as hv

    from app.ui.views.grid_map import GridMap
    from core.report.plots import use_bokeh

    use_bokeh()
    view = GridMap(soc_run.plan.spec)
    drawn = view.draw(ViewState(run=soc_run, spec=soc_run.plan.spec, grid=str(_grid_at(tmp_path, 5, 20, 45, 55))))
    notes, plots = drawn[:1], drawn[1:]  # the share outside the area of applicability, then the maps
    assert isinstance(notes[0], Message) and "outside the run's area of applicability" in notes[0]
    assert len(plots) == 4 + 5  # every target and the five neural parameters
    for plot in plots:
        figure = hv.render(plot, backend="bokeh")
        assert (figure.x_range.start, figure.x_range.end) == pytest.approx((5, 20))
        assert (figure.y_range.start, figure.y_range.end) == pytest.approx((45, 55))
    # the panes of a view do not link their axes to other plots of the page (a placeholder at
    # 0.5, 0.5 with the same dimension names widened every map's frame to 0)
    from app.ui.view_tabs import grid

    note, box = grid(drawn, view.columns).objects  # the note above the grid of maps
    assert "area of applicability" in note.object
    assert len(box.objects) == 4 + 5 and all(not pane.linked_axes for pane in box.objects)


@pytest.mark.slow
def test_a_run_that_cannot_be_mapped_says_why_in_text_that_wraps(soc_run, tmp_path):
    import panel as pn

    from app.ui.view_tabs import grid
    from app.ui.views.grid_map import GridMap

    missing = soc_run.plan.spec.forcing[0]
    column = soc_run.data.forcing[missing]
    note = GridMap(soc_run.plan.spec).draw(ViewState(run=soc_run, spec=soc_run.plan.spec,
                                                      grid=str(_grid_at(tmp_path, 5, 20, 45, 55, drop=[column]))))
    assert isinstance(note, Message) and note.startswith("cannot map this run over the grid") and column in note
    pane = grid(note)
    assert isinstance(pane, pn.pane.HTML) and "view-message" in pane.object and column in pane.object
    assert pane.styles["white-space"] == "normal" and pane.sizing_mode == "stretch_width"


@pytest.mark.slow
def test_the_saturation_view_draws_a_finished_soc_run(soc_run):
    from app.ui.views.saturation import Saturation

    spec = soc_run.plan.spec
    view = Saturation(spec)
    assert isinstance(view.draw(ViewState(spec=spec)), str)  # before any snapshot: a note
    # a finished run draws from the run itself, whether or not a live snapshot reached the page
    plots = view.draw(ViewState(run=soc_run, spec=spec))
    assert isinstance(plots, list) and len(plots) == 2  # predicted and observed MOC / q_max
    assert [plot.get(0).kdims[0].name for plot in plots] == ["predicted MOC / q_max", "observed MOC / q_max"]


@pytest.mark.slow
def test_the_saturation_view_draws_the_models_pool_when_it_is_not_a_target():
    from app.ui.views.saturation import Saturation

    plan = Setup(model_name="soc", n_sites=200, epochs=1).plan()
    run = core.execute(core.RunPlan.from_dict({**plan.to_dict(), "targets": ["soc"]}))
    assert "moc_pred" not in run.predictions
    plots = Saturation(run.plan.spec).draw(ViewState(run=run, spec=run.plan.spec))
    assert [plot.get(0).kdims[0].name for plot in plots] == ["predicted MOC / q_max"]  # nothing observed to draw


@pytest.mark.slow
def test_a_failed_or_collapsed_target_is_named_beside_the_result_with_what_to_try(soc_run):
    from app.ui.fit_warning import fit_warning_text
    from core.identify import MIN_ALPHA, target_fit_problems

    good = {"kge": 0.8, "r": 0.8, "alpha": 0.95, "beta": 1.0}
    metrics = {"targets": {"soc": {"val": good}, "moc": {"val": {**good, "kge": -0.6}},
                           "poc": {"val": {**good, "kge": 0.05, "alpha": 0.10}}, "mbc": {"val": {**good, "kge": -0.2}}}}
    problems = target_fit_problems(metrics)
    assert [(p["target"], p["level"]) for p in problems] == [("moc", "failed"), ("mbc", "poor"), ("poc", "poor")]
    assert "collapsed" in problems[2]["reason"] and MIN_ALPHA == 0.3
    assert target_fit_problems({"targets": {"soc": {"val": good}}}) == []
    assert target_fit_problems({"targets": {"soc": {"val": {**good, "kge": None}}}})[0]["level"] == "failed"
    # on the page: the finished run's targets, what failed, and what to try from its own settings
    kept = soc_run.metrics
    soc_run.metrics = {**kept, "targets": {**metrics["targets"]}, "stopped": "max epochs"}
    try:
        text = fit_warning_text(soc_run)
        soc_run.metrics = {**kept, "targets": {"soc": {"val": good}}, "neural": {},
                           "diagnostics": {**kept["diagnostics"], "warnings": []}}
        assert fit_warning_text(soc_run) == "" and fit_warning_text(None) == ""
        # two epochs leave the neural parameters one value everywhere: said under the result as well
        soc_run.metrics = {**kept, "targets": {"soc": {"val": good}}}
        flagged = [name for name, n in kept["neural"].items() if n["problem"]]
        pinned = fit_warning_text(soc_run)
        assert flagged and f"{len(flagged)} of 5 neural parameters learned no per-site field" in pinned
        assert all(f"<b>{name}</b>" in pinned for name in flagged)
    finally:
        soc_run.metrics = kept
    assert "The fit failed for 3 of 4 targets" in text and "<b>MOC</b>" in text and "<b>POC</b>" in text
    assert "more epochs (it ran all 2" in text and "a lower learning rate (now 0.01" in text
    assert "fewer neural parameters (now 5: cue, q_max, f_poc, v_max0, k_m0)" in text


def test_parameter_maps_read_lucas_coordinates_th_long_and_th_lat():
    """A ``data lucas`` table names its coordinates TH_LONG / TH_LAT (th_long, th_lat): the maps of
    the neural parameters use them as they use lon / lat."""
    import dataclasses
    import types

    import numpy as np
    import pandas as pd
    from app.state.setup import Setup
    from app.ui.views.parameter_maps import ParameterMaps
    from core.report.plots import use_bokeh

    use_bokeh()
    setup = Setup(model_name="soc")
    data = core.load_data("lucas-synthetic", n=50)
    frame = data.frame.rename(columns={"lon": "th_long", "lat": "th_lat"})
    renamed = dataclasses.replace(data, frame=frame, predictors=[{"lon": "th_long", "lat": "th_lat"}.get(c, c)
                                                                  for c in data.predictors])
    neural = [r.pname for r in setup.rows if r.role == "neural"]
    snapshot = types.SimpleNamespace(parameters=pd.DataFrame({n: np.linspace(0.1, 0.5, len(frame)) for n in neural}))
    view = ParameterMaps(setup.spec)
    plots = view.render(ViewState(snapshot=snapshot, data=renamed, rows=setup.rows))
    assert len(plots) == len(neural)
    assert plots[0].data["lon"].tolist() == frame["th_long"].tolist()
    no_coordinates = dataclasses.replace(data, frame=frame.drop(columns=["th_long", "th_lat"]),
                                         predictors=[c for c in data.predictors if c not in ("lon", "lat")])
    assert "no longitude/latitude columns" in view.render(ViewState(snapshot=snapshot, data=no_coordinates,
                                                                    rows=setup.rows))
