"""Compare runs' baselines: the fitted baselines that apply to a finished run, fitted on its own
split as one job of the server's pool, their rows in the runs' table beside the user's runs."""
import time

import numpy as np
import pytest

import core
from app.limits import ServerLimits
from app.state.baselines import BaselineFits
from app.state.runs import RunTable
from app.training.pool import TrainingPool
from app.training.runners import ThreadRunner
from core.baselines.on_run import fitted_baselines, score_split, split_item

pytestmark = pytest.mark.slow  # a trained run and forest fits


@pytest.fixture(scope="module")
def finished():
    """A respiration run (synthetic data, a few epochs) in a session's runs' table."""
    run = core.execute(core.RunPlan.from_dict({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 30},
                                               "train": {"epochs": 4, "patience": 4}}))
    table = RunTable()
    table.add(run, "respiration")
    return run, table


@pytest.fixture
def pool():
    pool = TrainingPool(ThreadRunner(1), ServerLimits(trainings=1))
    yield pool
    pool.close()


def _until(fits, seconds=120):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        fits.sync()
        if not fits.running:
            return
        time.sleep(0.05)
    raise AssertionError(f"the fit did not end in {seconds} s: {fits.status}")


def test_the_baselines_that_apply_are_named_with_the_reasons_of_the_others(finished):
    run, _ = finished
    applies = fitted_baselines(run)
    assert applies["rf"] is None and applies["qrf"] is None
    assert "retention" in applies["rosetta3"]  # respiration has no retention curve
    assert "RECO_NT" in applies["network_reco"]  # the synthetic data have no partitioned Reco
    with pytest.raises(core.HybridlabError, match="trained as a run of its own"):
        split_item(run, ["nn"])


def test_a_fit_from_the_page_gives_the_rows_of_the_baselines_on_the_runs_split(finished, pool):
    run, table = finished
    fits = BaselineFits(pool=pool, owner="me")
    record = table.records[0]
    fits.start(record)
    assert fits.running and "queued" in fits.status
    _until(fits)
    assert fits.status.startswith("fitted qrf, rf on the split of #1 respiration"), fits.status
    rows = {row["model"]: row for row in fits.rows}
    assert set(rows) == {"qrf (baseline)", "rf (baseline)"}
    # the same fits as on the split directly: the forests are seeded by the run
    direct = score_split(split_item(run, ["qrf", "rf"]))
    for name in ("qrf", "rf"):
        assert rows[f"{name} (baseline)"]["val KGE reco"] == pytest.approx(direct[name]["reco"]["kge"], abs=1e-3)
        assert rows[f"{name} (baseline)"]["label"] == f"{name} on the split of #1 respiration"
    assert 0 <= rows["qrf (baseline)"]["90 % interval coverage"] <= 1
    assert "90 % interval coverage" not in rows["rf (baseline)"]
    frame = table.table(extra=fits.rows)
    assert frame["label"].tolist()[:3] == ["#1 respiration", "qrf on the split of #1 respiration",
                                           "rf on the split of #1 respiration"]
    assert np.isfinite(frame.loc[1:2, "mean val KGE"].astype(float)).all()


def test_no_run_chosen_a_second_fit_and_a_full_share_are_said_in_one_line(finished, pool):
    run, table = finished
    fits = BaselineFits(pool=pool, owner="me")
    fits.start(None)
    assert fits.status == "choose a finished run first" and not fits.running
    blocker = pool.submit("me", None, lambda news: None, call=(lambda item, stop: stop.wait(30), None))
    fits.start(table.records[0])  # this user's one training slot is taken
    assert "cannot fit the baselines" in fits.status and "limit per user" in fits.status and not fits.running
    pool.cancel(blocker)
    blocker.stop.set()
    time.sleep(0.2)
    other = BaselineFits(pool=pool, owner="someone else")
    other.start(table.records[0])
    other.start(table.records[0])
    assert other.status == "a baseline fit is already running; wait for it"
    other.discard()
    assert not other.running and other.rows == []


def test_on_a_dask_worker_the_fit_gives_the_same_rows(finished):
    """The job crosses to a worker of the server's Dask cluster (the run's rows go with it)."""
    from app.training.runners import DaskRunner

    run, table = finished
    pool = TrainingPool(DaskRunner(workers=1), ServerLimits(trainings=1))
    try:
        fits = BaselineFits(pool=pool, owner="me")
        fits.start(table.records[0])
        _until(fits, 180)
        assert fits.status.startswith("fitted qrf, rf"), fits.status
        direct = score_split(split_item(run, ["rf"]))
        row = next(r for r in fits.rows if r["model"] == "rf (baseline)")
        assert row["val KGE reco"] == pytest.approx(direct["rf"]["reco"]["kge"], abs=1e-3)
    finally:
        pool.close()
