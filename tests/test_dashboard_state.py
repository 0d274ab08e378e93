"""The dashboard's state classes without a browser."""
import json
import math
import time

import pytest

from app.state import UPLOADED, RunTable, Setup, TrainingSession, export_bytes


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
    cfg = s.run_config()
    assert cfg.roles["q_max"] == "neural" and cfg.roles["cue"] == "global"


def test_invalid_rows_block_training_with_the_reason():
    s = Setup()
    s.row("cue").lower = 0.9
    assert not s.can_train
    assert "lower bound 0.9 must be below upper bound 0.8" in s.row("cue").error
    assert any(e.startswith("cue:") for e in s.errors)
    with pytest.raises(ValueError, match="cue"):
        s.run_config()
    s.row("cue").lower = 0.05
    assert s.can_train
    s.row("in_frac").value = 2.0  # fixed value outside [0.05, 1]
    assert "fixed value 2 lies outside" in s.row("in_frac").error and not s.can_train
    s.row("in_frac").value = 0.4
    s.hidden = "256,abc"
    assert not s.can_train and "hidden layers" in s.errors[0]


def test_changed_bounds_and_fixed_values_reach_the_run_config():
    s = Setup()
    s.row("q_max").upper = 120.0
    s.row("in_frac").value = 0.6
    cfg = s.run_config()
    assert cfg.overrides == {"q_max": {"lower": 1.0, "upper": 120.0}, "in_frac": {"value": 0.6}}


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
    s = Setup(model_name="respiration", n_sites=30, epochs=100_000, patience=100_000)
    sess = TrainingSession()
    sess.start(s)
    end = time.time() + 60
    while not sess.history and time.time() < end:
        sess.sync()
        time.sleep(0.05)
    sess.stop()
    _wait(sess)
    assert sess.status == "finished" and "cancelled" in sess.message
    assert sess.run.metrics["best_epoch"] <= sess.run.metrics["epochs_run"] < 100_000
    table = RunTable()
    table.add(sess)
    table.add(sess)  # the same run only once
    df = table.table()
    assert len(df) == 1 and df.loc[0, "model"] == "respiration" and "val KGE reco" in df
    for what in ("config", "metrics", "predictions", "parameters", "model"):
        assert len(export_bytes(sess.run, what).getvalue()) > 100
    s2 = Setup()
    s2.load_config(json.loads(export_bytes(sess.run, "config").getvalue()))
    assert s2.model_name == "respiration" and s2.epochs == 100_000 and s2.data_name == "respiration-synthetic"


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
    assert s.read_upload("fluxes.csv", frame.to_csv(index=False).encode()) is not None
    assert not s.apply_mapping({"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "Tair"}})
    assert "fluxes.csv" in s.upload_message and "'Tair' not found" in s.upload_message
    assert s.apply_mapping({"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "T"},
                            "predictors": ["moisture", "soil_n"]})
    assert s.data_name == UPLOADED and s.can_train and s.load_data().predictors == ["moisture", "soil_n"]
    assert s.read_upload("notes.xlsx", b"abc") is None and "unknown file type" in s.upload_message
    assert s.read_upload("broken.parquet", b"not parquet") is None and "broken.parquet" in s.upload_message
    big = b"x" * int(51e6)
    assert s.read_upload("big.csv", big) is None and "over the 50 MB limit" in s.upload_message


def test_loss_figure_streams_new_epochs_and_starts_over_for_a_new_run():
    from app.live import LossFigure

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
