import threading

import pytest
import torch

from core.hybrid.model import HybridModel
from core.training.losses import MultiTaskLoss
from core.models import get_model
from core.hybrid.network import NetworkConfig
from core.run.plan import RunPlan
from core.run.execute import execute
from core.training.loop import TrainConfig, predict, train

SMALL = NetworkConfig(hidden=(16, 16), activation="tanh", dropout=0.0)


def _setup(data, seed=0):
    spec = get_model("respiration")
    torch.manual_seed(seed)
    model = HybridModel(data.predictors, ["temp"], ["reco"], spec.function, spec.parameters(), SMALL)
    rows = torch.arange(len(data.frame))
    sites = torch.tensor(data.frame["site_id"].to_numpy())
    tr, va = data.tensors(rows[sites % 5 != 0].numpy()), data.tensors(rows[sites % 5 == 0].numpy())
    model.set_normalization(tr.x, tr.forcing, tr.y)
    return model, tr, va


def _val_loss(model, va):
    out = predict(model, va)
    per, valid = MultiTaskLoss(1).per_target(va.y, out.predictions)
    return float(per[valid].mean())


def test_early_stopping_restores_the_best_epoch(small_resp):
    model, tr, va = _setup(small_resp)
    cfg = TrainConfig(optimizer="adam", lr=0.05, batch_size=64, epochs=200, patience=5, seed=0)
    res = train(model, tr, va, cfg)
    assert res.stopped == "early stopping"
    assert res.epochs_run - res.best_epoch == 5
    best = res.history[res.best_epoch - 1]
    assert best["val_loss"] == min(r["val_loss"] for r in res.history)
    assert _val_loss(model, va) == pytest.approx(best["val_loss"], rel=1e-5)


def test_callback_receives_every_history_row(small_resp):
    model, tr, va = _setup(small_resp)
    rows = []
    res = train(model, tr, va, TrainConfig(batch_size=128, epochs=3, patience=10), callbacks=[rows.append])
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows == res.history
    assert {"train_loss", "val_loss", "train_loss_reco", "val_loss_reco", "val_kge_reco",
            "best_val_loss", "epoch_seconds"} <= set(rows[0])


def test_cancel_from_another_thread_stops_within_an_epoch_and_keeps_best(small_resp):
    model, tr, va = _setup(small_resp)
    stop = threading.Event()
    seen = []

    def on_epoch(row):
        seen.append(row)
        if row["epoch"] == 3:
            threading.Thread(target=stop.set).start()

    result = {}
    worker = threading.Thread(target=lambda: result.update(
        res=train(model, tr, va, TrainConfig(batch_size=32, epochs=10_000, patience=10_000),
                  callbacks=[on_epoch], stop_event=stop)))
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    res = result["res"]
    assert res.stopped == "cancelled"
    assert res.epochs_run <= 5
    assert _val_loss(model, va) == pytest.approx(res.history[res.best_epoch - 1]["val_loss"], rel=1e-5)


def test_same_seed_same_metrics(small_resp):
    plan = RunPlan(model="respiration", data={"name": "respiration-synthetic", "n": 40, "seed": 1}, network=SMALL,
                   train=TrainConfig(batch_size=128, epochs=4, patience=10, seed=3))
    a = execute(plan).metrics
    b = execute(plan).metrics
    assert a["targets"] == b["targets"]
    assert a["parameter_recovery"] == b["parameter_recovery"]


def test_bad_train_config_is_named():
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="learning rate"):
        TrainConfig(lr=-1)
