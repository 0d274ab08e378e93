"""K members trained as one model (core.hybrid.members, core.training.loop, core.training.members, core.run.finish);
a single run is the stack of one."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from core.errors import HybridlabError
from core.run.execute import _split, execute, load_plan_data
from core.run.loaded import load_run
from core.training.losses import MultiTaskLoss
from core.run.finish import build_members, finish_run
from core.training.members import MemberLoss
from core.models import build_model
from core.run.plan import RunPlan
from core.hybrid.network import Dropout
from core.training.loop import OPTIMIZERS, predict, train, train_members


def _setup(model="soc", n=400, members=3, **train):
    plan = RunPlan.from_dict({"model": model, "data": {"name": "lucas-synthetic", "n": n},
                              "network": {"hidden": [32, 16], "dropout": 0.3},
                              "options": {"moc_capacity_weight": 1.0} if model == "soc" else {},
                              "train": {"epochs": 30, "patience": 5, "members": members, **train}})
    data = load_plan_data(plan)
    forcing, targets = plan.spec.variables(data, None)
    train_rows, val_rows, _ = _split(plan, data, targets)
    config = {"name": plan.model, "predictors": data.predictors, "forcing": forcing, "targets": targets,
              "parameters": plan.parameter_set().to_dict(), "network": plan.network.to_dict(),
              "options": plan.spec.check_options(plan.options)}
    tensors = data.tensors(train_rows, forcing, targets), data.tensors(val_rows, forcing, targets)
    return plan, data, config, tensors, (train_rows, val_rows, forcing, targets)


def _reseed(model, seed):
    """A single model's dropout masks from its seed, as a run seeds them (module i: (seed, i))."""
    for i, module in enumerate(model.modules()):
        if isinstance(module, Dropout):
            module.reseed((seed, i))


def _single(config, seed, train_tensors):
    torch.manual_seed(seed)
    model = build_model(config)
    model.set_normalization(train_tensors.x, train_tensors.forcing, train_tensors.y)
    return model


@pytest.mark.parametrize("model", ["soc", "nn"])
def test_members_get_the_gradients_of_separate_models_on_the_same_batch(model):
    plan, _, config, (train_tensors, _), _ = _setup(model, members=3)
    seeds = plan.train.member_seeds
    singles = [_single(config, seed, train_tensors) for seed in seeds]
    members = build_members(config, seeds, train_tensors)
    members.reseed(seeds)
    for single, seed in zip(singles, seeds):
        _reseed(single, seed)  # each single model's dropout masks from its seed, as a run's
    batch = train_tensors.slice(0, 256)
    out = members(batch.x, batch.forcing)
    loss, _, _ = MemberLoss(3, len(members.targets), "kge", "mean")(batch.y, out.predictions)
    for extra in (out.penalty, members.observation_penalty(out.parameters, batch.y)):
        if extra is not None:
            loss = loss + extra
    loss.sum().backward()
    single_loss = MultiTaskLoss(len(members.targets))
    for k, single in enumerate(singles):
        own = single(batch.x, batch.forcing)
        total = single_loss(batch.y, own.predictions)[0]
        for extra in (own.penalty, single.observation_penalty(own.parameters, batch.y)):
            if extra is not None:
                total = total + extra
        total.backward()
        linear = [layer for layer in single.net if isinstance(layer, torch.nn.Linear)]
        assert len(linear) == len(members.net.weights)
        for layer, weight, bias in zip(linear, members.net.weights, members.net.biases):
            torch.testing.assert_close(weight.grad[k], layer.weight.grad, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(bias.grad[k], layer.bias.grad, rtol=1e-5, atol=1e-6)
        if members.global_logits is not None:
            torch.testing.assert_close(members.global_logits.grad[k], single.global_logits.grad, rtol=1e-5, atol=1e-6)
    if model == "soc":
        assert out.penalty is not None and out.penalty.shape == (3,)


def _plain_training(model, train_tensors, val_tensors, config):
    """The reference a single run must reproduce: one unstacked model (nn.Linear, its own dropout
    layers, MultiTaskLoss) trained epoch by epoch; the validation loss of each epoch."""
    torch.manual_seed(config.seed)
    _reseed(model, config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    loss_fn = MultiTaskLoss(len(model.targets), config.loss, config.weighting)
    optimizer = OPTIMIZERS[config.optimizer](list(model.parameters()) + list(loss_fn.parameters()), lr=config.lr,
                                             foreach=True)
    losses = []
    for _ in range(config.epochs):
        shuffled = train_tensors.take(torch.randperm(len(train_tensors), generator=generator))
        model.train()
        for start in range(0, len(shuffled), config.batch_size):
            batch = shuffled.slice(start, start + config.batch_size)
            out = model(batch.x, batch.forcing)
            loss = loss_fn(batch.y, out.predictions)[0]
            for extra in (out.penalty, model.observation_penalty(out.parameters, batch.y)):
                if extra is not None:
                    loss = loss + extra
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        per_target, valid = loss_fn.per_target(val_tensors.y, predict(model, val_tensors).predictions)
        losses.append(float(per_target.sum() / valid.sum()))
    return losses


@pytest.mark.parametrize("model", ["soc", "nn"])
def test_one_member_reproduces_the_plain_run(model):
    # with dropout, a penalty (soc) and the pure network: the stack of one is the plain model
    plan, _, config, (train_tensors, val_tensors), _ = _setup(model, n=300, members=1, epochs=6, patience=50)
    reference = _plain_training(_single(config, 0, train_tensors), train_tensors, val_tensors, plan.train)
    single = _single(config, 0, train_tensors)
    result = train(single, train_tensors, val_tensors, plan.train)
    assert result.epochs_run == 6 and result.stopped == "max epochs"
    np.testing.assert_allclose([row["val_loss"] for row in result.history], reference, rtol=0, atol=1e-6)
    best = int(np.argmin(reference))
    per_target, valid = MultiTaskLoss(len(single.targets)).per_target(val_tensors.y,
                                                                      predict(single, val_tensors).predictions)
    assert result.best_epoch == best + 1  # and the model holds that epoch's weights
    assert float(per_target.sum() / valid.sum()) == pytest.approx(reference[best], abs=1e-6)


@pytest.mark.slow  # trains four members until each stops
def test_each_member_stops_on_its_own_and_keeps_its_best_weights():
    plan, _, config, (train_tensors, val_tensors), _ = _setup("soc", members=4, epochs=60, patience=3, lr=0.02)
    members = build_members(config, plan.train.member_seeds, train_tensors)
    outcome = train_members(members, train_tensors, val_tensors, plan.train)
    runs = [result.epochs_run for result in outcome.members]
    assert len(set(runs)) > 1, runs  # members stopped at different epochs while the others trained on
    loss = MultiTaskLoss(len(members.targets))
    for k, result in enumerate(outcome.members):
        assert result.stopped in ("early stopping", "max epochs") and len(result.history) == result.epochs_run
        best = result.history[result.best_epoch - 1]["val_loss"]
        # the member's weights are those of its best epoch, not of the epoch it stopped at
        out = predict(members.member(k), val_tensors)
        per_target, valid = loss.per_target(val_tensors.y, out.predictions)
        assert float(per_target.sum() / valid.sum()) == pytest.approx(best, abs=1e-5)


def test_a_member_that_diverges_is_named_and_the_others_finish():
    plan, data, config, (train_tensors, val_tensors), (train_rows, val_rows, forcing, targets) = _setup(
        "soc", members=3, epochs=10, patience=20)
    members = build_members(config, plan.train.member_seeds, train_tensors)
    with torch.no_grad():
        members.net.weights[0][1].fill_(math.inf)  # member 1 predicts NaN from the first batch
    outcome = train_members(members, train_tensors, val_tensors, plan.train)
    assert [r.stopped for r in outcome.members] == ["max epochs", "diverged", "max epochs"]
    finished = finish_run(members.cpu(), outcome, plan=plan, data=data,
                          everything=data.tensors(None, forcing, targets), targets=targets,
                          train_rows=train_rows, val_rows=val_rows)
    metrics, table = finished.metrics, finished.members_table
    assert [f["member"] for f in metrics["failed_members"]] == [1]
    assert "member 1 (seed 1) diverged at epoch 1" in metrics["failed_members"][0]["error"]
    assert [m["member"] for m in metrics["members"]] == [0, 2] and sorted(set(table["member"])) == [0, 2]
    assert math.isfinite(metrics["mean_val_kge"]) and finished.snapshot.predictions["soc_pred"].notna().all()
    assert finished.model.count == 2  # the saved model holds the members that finished


def test_an_ensemble_run_folder_predicts_the_members_mean_and_sd(tmp_path):
    plan = {"model": "soc", "data": {"name": "lucas-synthetic", "n": 300},
            "network": {"hidden": [16]}, "train": {"epochs": 4, "members": 3, "seed": 5}}
    run = execute(plan, out=tmp_path / "run")
    assert run.metrics["member_summary"]["mean_val_kge"]["n"] == 3
    assert [m["seed"] for m in run.metrics["members"]] == [5, 6, 7]
    loaded = load_run(tmp_path / "run")
    frame = run.data.frame.head(20)
    predicted = loaded.predict(frame)
    members = pd.read_parquet(tmp_path / "run" / "members.parquet")
    by_member = np.stack([members[members["member"] == k]["soc_pred"].to_numpy()[:20] for k in range(3)])
    np.testing.assert_allclose(predicted["soc_pred"], by_member.mean(0), rtol=1e-5)
    np.testing.assert_allclose(predicted["soc_sd"], by_member.std(0, ddof=1), rtol=1e-4, atol=1e-6)
    assert {"cue", "cue_sd", "q_max_sd"} <= set(predicted.columns)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert sorted(set(history["member"])) == [0, 1, 2] and sorted(set(history["seed"])) == [5, 6, 7]


def test_members_and_precision_are_checked_and_left_out_of_plain_plans(monkeypatch):
    assert "members" not in RunPlan(model="soc").to_dict()["train"]
    with pytest.raises(HybridlabError, match="members"):
        RunPlan.from_dict({"model": "soc", "train": {"members": 0}})
    with pytest.raises(HybridlabError, match="precision"):
        RunPlan.from_dict({"model": "soc", "train": {"precision": "fp8"}})
    import core.training.config

    monkeypatch.setattr(core.training.config, "cpu_bf16_units", lambda: None)
    with pytest.raises(HybridlabError, match="no bfloat16 matrix units"):
        execute({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 10},
                 "train": {"epochs": 1, "precision": "bf16-mixed"}})


def test_bf16_mixed_trains_the_members_where_the_cpu_has_bf16_units():
    from core.training.config import cpu_bf16_units

    if cpu_bf16_units() is None:
        pytest.skip("this CPU has no bfloat16 matrix units")
    plan, _, config, (train_tensors, val_tensors), _ = _setup("soc", members=2, epochs=3, precision="bf16-mixed")
    outcome = train_members(build_members(config, [0, 1], train_tensors), train_tensors, val_tensors, plan.train)
    assert all(math.isfinite(r.history[-1]["val_loss"]) for r in outcome.members)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_members_train_on_a_gpu():
    plan, _, config, (train_tensors, val_tensors), _ = _setup("soc", members=2, epochs=3, device="cuda")
    members = build_members(config, [0, 1], train_tensors)
    outcome = train_members(members, train_tensors, val_tensors, plan.train)
    assert all(math.isfinite(r.history[-1]["val_loss"]) for r in outcome.members)
    assert isinstance(members.member(0), torch.nn.Module)


def test_a_tampered_member_count_is_refused(tmp_path):
    import json

    from core.run.integrity import marker_text

    execute({"model": "soc", "data": {"name": "lucas-synthetic", "n": 300}, "network": {"hidden": [8]},
             "train": {"epochs": 1, "members": 2}}, out=tmp_path / "run")
    config_path = tmp_path / "run" / "config.json"
    config = json.loads(config_path.read_text())
    config["model"]["members"] = 3
    config_path.write_text(json.dumps(config))
    (tmp_path / "run" / ".complete").write_text(marker_text(tmp_path / "run"))
    with pytest.raises(HybridlabError, match="declares 3 members"):
        load_run(tmp_path / "run")


@pytest.mark.slow  # three sweeps on a LocalCluster
def test_a_sweep_packs_seeds_into_one_ensemble_run_keeps_a_row_per_seed_and_resumes(tmp_path, capsys):
    import json

    from core.cli import main

    args = ["sweep", "--model", "respiration", "--n-sites", "30", "--epochs", "5", "--seeds", "3", "--workers", "1",
            "--quiet"]
    assert main([*args, "--pack-seeds", "--out", str(tmp_path / "packed")]) == 0
    table = pd.read_parquet(tmp_path / "packed" / "sweep.parquet")
    assert list(table["seed"]) == [0, 1, 2] and set(table["status"]) == {"finished"}
    assert set(table["run"]) == {"default__seeds0-2"} and list(table["member"]) == [0, 1, 2]
    assert [p.name for p in (tmp_path / "packed" / "runs").iterdir()] == ["default__seeds0-2"]
    identifiability = json.loads((tmp_path / "packed" / "identifiability.json").read_text())
    assert len(identifiability["configurations"]["default"]["members"]) == 3
    assert main([*args, "--pack-seeds", "--out", str(tmp_path / "packed")]) == 0
    assert "(3 from before)" in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "separate")]) == 0
    separate = pd.read_parquet(tmp_path / "separate" / "sweep.parquet")
    assert sorted(p.name for p in (tmp_path / "separate" / "runs").iterdir()) == list(separate["name"])
    assert list(separate.columns[:4]) == list(table.columns[:4])


def test_the_allocator_keeps_what_training_frees_on_linux():
    import sys

    from core.training.allocator import keep_freed_memory

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's thresholds are set on Linux only")
    assert keep_freed_memory() is True


def test_a_network_too_large_for_memory_is_refused_before_it_is_built():
    with pytest.raises(HybridlabError, match="more than 100,000,000"):
        execute({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 10},
                 "network": {"hidden": [4096, 4096]}, "train": {"epochs": 1, "members": 8}})
