"""The dashboard's state classes without a browser."""
import math
import time

import pytest

from app.state.runs import RunTable, export_bytes
from app.state.session import TrainingSession
from app.state.setup import Setup


def _wait(session, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        session.sync()
        if session.status in ("finished", "error") and not session.running:
            session.sync()
            return
        time.sleep(0.05)
    raise AssertionError("training did not finish")


def test_opens_on_lucas_data_and_five_neural():
    s = Setup()
    assert (s.model_name, s.data_name, s.preset_name()) == ("soc", "lucas-synthetic", "five_neural")
    assert [r.pname for r in s.rows if r.role == "neural"] == ["cue", "q_max", "f_poc", "v_max0", "k_m0"]
    assert s.can_train and (s.batch_size, s.epochs, s.hidden) == (2048, 1000, "256,128,64,32")


def test_presets_and_toggles():
    s = Setup()
    s.apply_preset("all_global")
    assert s.preset_name() == "all_global" and "neural" not in s.roles.values()
    s.row("q_max").role = "neural"
    assert s.preset_name() == "custom"
    plan = s.plan()
    assert plan.roles["q_max"] == "neural" and plan.roles["cue"] == "global"
    assert plan.parameter_set()["q_max"].role == "neural"


def test_invalid_rows_block_training_with_the_reason():
    s = Setup()
    s.row("cue").lower = 0.9
    assert not s.can_train
    assert "lower bound 0.9 must be below upper bound 0.8" in s.row("cue").error
    assert any(e.startswith("cue:") for e in s.errors)
    with pytest.raises(ValueError, match="cue"):
        s.plan()
    s.row("cue").lower = 0.05
    assert s.can_train
    s.row("in_frac").value = 2.0  # fixed value outside [0.05, 1]
    assert "fixed value 2 lies outside" in s.row("in_frac").error and not s.can_train
    s.row("in_frac").value = 0.4
    s.hidden = "256,abc"
    assert not s.can_train and "hidden layer sizes" in s.errors[0]


def test_changed_bounds_and_fixed_values_reach_the_plan():
    s = Setup()
    s.row("q_max").upper = 120.0
    s.row("in_frac").value = 0.6
    plan = s.plan()
    assert plan.bounds == {"q_max": (1.0, 120.0)} and plan.fixed == {"in_frac": 0.6}
    assert plan.parameter_set()["q_max"].upper == 120.0


def test_model_switch_rebuilds_rows_and_settings():
    s = Setup()
    s.model_name = "respiration"
    assert [r.pname for r in s.rows] == ["rb", "q10", "t_ref"]
    assert s.data_name == "respiration-synthetic" and s.batch_size == 256 and s.optimizer == "adam"
    s.model_name = "nn"
    assert s.rows == [] and s.can_train


def test_two_sessions_train_at_once_with_separate_state():
    a, b = Setup(model_name="respiration", n_sites=30, epochs=6), Setup(n_sites=300, epochs=4)
    sa, sb = TrainingSession(), TrainingSession()
    assert sa.start(a) and sb.start(b)
    _wait(sa)
    _wait(sb)
    assert sa.status == sb.status == "finished"
    assert [r["epoch"] for r in sa.history] == list(range(1, 7))
    assert [r["epoch"] for r in sb.history] == list(range(1, 5))
    assert "val_loss_reco" in sa.history[0] and "val_loss_soc" not in sa.history[0]
    assert sa.run.metrics["model"] == "respiration" and sb.run.metrics["model"] == "soc"
    assert sa.snapshot is not sb.snapshot


def test_stop_keeps_the_best_model_and_runs_are_compared():
    s = Setup(model_name="respiration", n_sites=30, epochs=5000, patience=5000)
    sess = TrainingSession()
    sess.start(s)
    end = time.time() + 60
    while not sess.history and time.time() < end:
        sess.sync()
        time.sleep(0.05)
    sess.stop()
    _wait(sess)
    assert sess.status == "finished" and "cancelled" in sess.message
    assert sess.run.metrics["best_epoch"] <= sess.run.metrics["epochs_run"] < 5000
    table = RunTable()
    table.add(sess.run, sess.label)
    table.add(sess.run, sess.label)  # the same run only once
    df = table.table()
    assert len(df) == 1 and df.loc[0, "model"] == "respiration" and "val KGE reco" in df
    for what in ("config", "metrics", "predictions", "parameters", "model"):
        assert len(export_bytes(sess.run, what).getvalue()) > 100
    s2 = Setup()
    s2.load_config_file("config.json", export_bytes(sess.run, "config").getvalue())
    assert s2.model_name == "respiration" and s2.epochs == 5000 and s2.data_name == "respiration-synthetic"


def test_reference_rows_for_soc_runs():
    table = RunTable()
    table.records = [{"run": None, "label": "#1 soc five_neural", "model": "soc", "val KGE soc": 0.8}]
    df = table.table()
    assert "report: five_neural" in set(df["label"])
    assert df.loc[df["label"] == "report: all_neural", "val KGE soc"].item() == 0.53


def test_upload_with_mapping_and_clear_errors(tmp_path):
    from core import load_data
    frame = load_data("respiration-synthetic", n=10).frame.rename(columns={"reco": "R", "temp": "T"})
    s = Setup(model_name="respiration")
    assert not s.upload.load()  # nothing uploaded: nothing loads
    assert s.upload.read("fluxes.csv", frame.to_csv(index=False).encode()) is not None
    kept = s.upload.path
    assert s.upload.use_mapping({"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "Tair"}}) is False
    assert "fluxes.csv" in s.upload.map_error and "'Tair' (forcing temp) not in the file" in s.upload.map_error
    assert s.upload.use_mapping({"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "T"},
                                 "predictors": ["moisture", "soil_n"]})
    assert s.data_name == "uploaded: fluxes.csv" and s.can_train and s.upload.data.predictors == ["moisture", "soil_n"]
    assert s.plan().data.path == str(kept)
    assert s.upload.read("notes.xlsx", b"abc") is None and "unknown file type" in s.upload.error
    assert not kept.exists()  # a new upload removes the earlier temporary copy
    assert s.upload.read("broken.parquet", b"not parquet") is None and "broken.parquet" in s.upload.error
    big = b"x" * int(51e6)
    assert s.upload.read("big.csv", big) is None and "big.csv: 51 MB is over this server's limit of 50 MB" in s.upload.error
    assert s.data_name == "uploaded: big.csv" and not s.can_train and s.errors == [s.upload.error]  # nothing else trains
    s.upload.discard()  # the file taken out of the field: built-in data again
    assert s.data_name == "respiration-synthetic" and s.can_train


def test_loss_figure_streams_new_epochs_and_starts_over_for_a_new_run():
    from app.ui.live import LossFigure

    fig = LossFigure(["soc"])
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 0.0 if e == 2 else 2.0 / e, "val_loss_soc": 0.5}
            for e in range(1, 6)]
    fig.update(rows[:3])
    assert fig.source.data["epoch"] == [1, 2, 3]
    assert math.isnan(fig.source.data["val_loss"][1])  # zero is not drawn on the log axis
    fig.update(rows)
    assert fig.source.data["epoch"] == [1, 2, 3, 4, 5] and fig.source.data["train_loss"][4] == 0.2
    fig.update(rows[:2])
    assert fig.source.data["epoch"] == [1, 2]


def test_a_model_defined_here_appears_in_the_dashboard_and_trains():
    """Adding a model is one ModelSpec: no edit in app/ (the dashboard asks the spec)."""
    import torch

    import core
    from app.ui.views import views_for

    def exponential_decay(temp, k, c0):
        return {"reco": c0 * torch.exp(-k * (temp - temp.min()) / 10.0)}

    def parameters():
        return core.ParameterSet([core.Parameter("k", "decay per 10 °C", "-", 0.1, -2.0, 2.0, role="global"),
                                  core.Parameter("c0", "value at the coldest day", "µmol m⁻² s⁻¹", 3.0, 0.1, 20.0,
                                                 role="neural")],
                                 presets={"default": {"k": "global", "c0": "neural"}})

    spec = core.register_model(core.ModelSpec(
        name="test_decay", description="a model of this test", function=exponential_decay, parameters=parameters,
        forcing=("temp",), targets=("reco",), default_data="respiration-synthetic"), replace=True)
    setup = Setup(model_name="test_decay", n_sites=30, epochs=3)
    assert "test_decay" in setup.param.model_name.objects
    assert [r.pname for r in setup.rows] == ["k", "c0"] and setup.preset_name() == "default"
    assert {type(v).__name__ for v in views_for("Parameters", spec)} >= {"ParameterHistograms", "GlobalCurves"}
    assert [type(v).__name__ for v in views_for("Model", spec)] == ["IntervalReliability"]  # only the model-free one
    session = TrainingSession()
    assert session.start(setup)
    _wait(session)
    assert session.status == "finished", session.message
    assert session.run.metrics["model"] == "test_decay" and "global_k" in session.history[-1]


def test_a_failed_config_import_leaves_the_form_as_it_was():
    s = Setup(model_name="respiration")
    s.row("q10").upper = 3.0
    before = (s.model_name, s.epochs, s.row("q10").upper)
    with pytest.raises(ValueError, match="fixed value"):
        s.load_config_file("plan.yaml", b"model: soc\nfixed: {cue: 5.0}\n")
    with pytest.raises(ValueError, match="invalid JSON"):
        s.load_config_file("config.json", b"{not json")
    assert (s.model_name, s.epochs, s.row("q10").upper) == before
    s.load_config_file("plan.yaml", b"model: soc\nroles: all_global\ntrain: {epochs: 7}\n")
    assert s.model_name == "soc" and s.epochs == 7 and s.preset_name() == "all_global"


def _slow_post(delay):
    from app.training.news import Snapshot

    spent = []

    def post(news):
        if isinstance(news, Snapshot):
            start = time.perf_counter()
            time.sleep(delay)
            spent.append(time.perf_counter() - start)
    return post, spent


def test_live_snapshots_arrive_during_training_and_end_on_the_kept_weights():
    import core
    from app.training.news import Snapshot
    from app.training.observer import LiveObserver, SnapshotPacer

    snapshots = []
    observer = LiveObserver(lambda news: snapshots.append(news.snapshot) if isinstance(news, Snapshot) else None,
                            SnapshotPacer(interval=0.0, budget=1.0))
    plan = core.RunPlan(model="respiration", data={"name": "respiration-synthetic", "n": 40, "seed": 1},
                        network={"hidden": [16, 16]}, train={"epochs": 4, "patience": 10})
    run = core.execute(plan, observer=observer)
    assert [s.epoch for s in snapshots[:-1]] == [1, 2, 3, 4]
    assert snapshots[-1].epoch == run.result.best_epoch
    assert snapshots[-1].targets["reco"]["val"]["kge"] == run.metrics["targets"]["reco"]["val"]["kge"]
    assert list(snapshots[-1].predictions.columns) == ["id", "split", "reco_obs", "reco_pred"]


@pytest.mark.slow  # trains or draws for seconds: out of the quick loop
def test_snapshots_keep_within_their_time_budget():
    import core
    from app.training.observer import LiveObserver, SnapshotPacer

    post, spent = _slow_post(0.02)  # a live view that takes 20 ms per snapshot
    plan = core.RunPlan(model="respiration", data={"name": "respiration-synthetic", "n": 40, "seed": 1},
                        network={"hidden": [16, 16]}, train={"epochs": 60, "patience": 100})
    run = core.execute(plan, observer=LiveObserver(post, SnapshotPacer(interval=0.0, budget=0.2)))
    assert 2 <= len(spent) < 60
    # the snapshot itself adds to the view's 20 ms, so the view's share stays below the budget
    assert sum(spent) / run.result.seconds <= 0.2 + 0.05


def test_one_slow_snapshot_does_not_freeze_the_live_views():
    from app.training.observer import SnapshotPacer

    pacer = SnapshotPacer(interval=0.0, budget=0.1)
    for cost in (0.01, 0.01, 0.3):  # the third update is slowed down, e.g. by the page's server thread
        pacer.record(100.0, 100.0 + cost)
    # waiting 9x the slow one's cost would be 2.7 s; the median of recent costs keeps the pace
    assert pacer.next_at - 100.3 < 1.0 and not pacer.due(100.2) and pacer.due(pacer.next_at)


@pytest.mark.slow  # trains several runs: end to end, out of the quick loop
def test_an_ensemble_trains_its_members_and_puts_verdicts_on_the_rows():
    import importlib

    importlib.import_module("holoviews.plotting.bokeh")  # the plotting backend the views draw with
    from app.ui.views.base import ViewState
    from app.ui.views.ensemble_spread import EnsembleSpread

    setup = Setup(model_name="respiration", n_sites=60, epochs=40, ensemble=3)
    assert setup.plan().train.member_seeds == [0, 1, 2]
    session = TrainingSession()
    assert session.start(setup) and session.members == 3
    _wait(session)
    assert session.status == "finished" and [m["seed"] for m in session.run.metrics["members"]] == [0, 1, 2]
    assert "of the 3 members' mean" in session.message and "ensemble of 3" in session.label
    result = session.ensemble["identifiability"]
    # the members of one ensemble run share a split: their agreement is shown, the verdict withheld
    assert result["shared_split"] and result["parameters"]["rb"]["verdict"] == "no verdict"
    assert result["parameters"]["rb"]["agreement_verdict"] in ("identified", "weak", "not identified")
    assert session.ensemble["spread"]["rb"].shape == (len(session.run.data.frame),)
    setup.show_identifiability(result)
    assert setup.row("rb").agreement.startswith("no verdict") and "share one split" in setup.row("rb").reason
    # the members started their global q10 at its default: no verdict is claimed for it
    assert setup.row("q10").agreement == "not tested (same start)"
    assert "ensemble of 3 members" in session.message
    state = ViewState(session, setup)
    plots = EnsembleSpread(setup.spec).draw(state)
    assert isinstance(plots, list) and len(plots) == 1  # a histogram; these data have no coordinates
    setup.show_identifiability(None)
    assert setup.row("rb").agreement == ""


def test_an_ensemble_over_the_server_limit_blocks_training_with_the_reason():
    from app.limits import ServerLimits

    setup = Setup(model_name="respiration", limits=ServerLimits(ensemble_members=3))
    assert setup.can_train
    setup.ensemble = 4
    assert setup.errors == ["an ensemble of 4 members is over this server's limit of 3"]
    setup.ensemble = 3
    assert setup.can_train


def test_the_moc_capacity_constraint_penalises_only_observed_moc_above_q_max():
    import torch

    from core.models.soc import moc_capacity

    q_max = torch.tensor([10.0, 10.0, 10.0])
    observed = {"moc": torch.tensor([5.0, 15.0, float("nan")])}
    assert moc_capacity({"q_max": q_max}, observed) is None  # off unless a weight is given
    penalty = moc_capacity({"q_max": q_max}, observed, moc_capacity_weight=2.0)
    assert float(penalty) == pytest.approx(2.0 * (0.0 + 0.5) / 2)


def test_the_interval_switch_holds_out_calibration_sites_and_comes_back_from_a_plan():
    import core

    setup = Setup()
    assert setup.plan().split.calibration == 0.0
    setup.intervals = True
    plan = setup.plan()
    assert plan.split.calibration == core.INTERVAL_CALIBRATION
    other = Setup()
    other.load_plan(plan)
    assert other.intervals


@pytest.mark.slow  # trains an ensemble and its twins: end to end, out of the quick loop
def test_an_ensemble_with_twins_takes_its_verdicts_from_them_with_a_reason_on_hover():
    from app.ui.sidebar import _row_label

    setup = Setup(model_name="respiration", n_sites=60, epochs=40, ensemble=2, twins=2)
    session = TrainingSession()
    assert session.start(setup) and session.twins == 2
    _wait(session)
    deadline = time.monotonic() + 120
    while session.running and time.monotonic() < deadline:  # the twins run after the members
        session.sync()
        time.sleep(0.1)
    session.sync()
    rb = session.ensemble["identifiability"]["parameters"]["rb"]
    assert rb["twins"] == 2 and rb["reason"].startswith("recovered r"), rb
    assert "verdicts from 2 of 2 twins" in session.message
    setup.show_identifiability(session.ensemble["identifiability"])
    row = setup.row("rb")
    assert row.agreement.startswith(rb["verdict"]) and row.reason == rb["reason"]
    assert f'title="{rb["reason"]}"' in _row_label("rb", "base respiration", "-", "", row.agreement, row.reason)
    # global q10 started at its default in every member: the twins cannot test it either, and say so
    assert setup.row("q10").agreement == "not tested (same start)"
    assert "--global-start random" in setup.row("q10").reason
    assert session._twins is None and not session.running  # the twin files are gone once scored
