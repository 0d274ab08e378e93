"""The dashboard's training pool: first in, first out, places in the queue, Stop for queued and
running trainings, in threads and on a real Dask LocalCluster."""
import logging
import time

import pytest

from app.limits import ServerLimits
from app.training.pool import TrainingPool
from app.training.runners import DaskRunner, ThreadRunner
from app.state.session import TrainingSession
from app.state.setup import Setup


def _setup(epochs=3, patience=None):
    return Setup(model_name="respiration", n_sites=20, epochs=epochs, patience=patience or epochs)


def _until(sessions, condition, seconds=60):
    """Sync the sessions (as the page's periodic callback does) until ``condition()``; the seconds taken."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        for session in sessions:
            session.sync()
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not reached in {seconds} s: {[(s.status, s.message) for s in sessions]}")


@pytest.fixture
def thread_pool():
    pool = TrainingPool(ThreadRunner(1), ServerLimits(trainings=1))
    yield pool
    pool.close()


@pytest.mark.slow  # trains or draws for seconds: out of the quick loop
def test_trainings_beyond_the_slots_wait_in_order_and_know_their_place(thread_pool):
    sessions = [TrainingSession(pool=thread_pool) for _ in range(3)]
    for session in sessions:
        assert session.start(_setup(epochs=40))
    _until(sessions, lambda: sessions[2].queue_position is not None and sessions[0].status == "training")
    assert [s.status for s in sessions] == ["training", "queued", "queued"]
    assert sessions[1].queue_position[:2] == (1, 2) and sessions[2].queue_position[:2] == (2, 2)
    _until(sessions, lambda: sessions[0].status == "finished")
    _until(sessions, lambda: sessions[1].status in ("training", "finished") and sessions[2].queue_position is not None)
    assert sessions[2].queue_position[:2] == (1, 1)
    assert sessions[2].queue_position[2] > 0  # about one training's time, measured on the first
    _until(sessions, lambda: all(s.status == "finished" for s in sessions))
    assert [s.run.metrics["model"] for s in sessions] == ["respiration"] * 3


def test_stop_cancels_a_queued_training_at_once_and_stops_a_running_one_within_a_second(thread_pool):
    running, waiting = TrainingSession(pool=thread_pool), TrainingSession(pool=thread_pool)
    assert running.start(_setup(epochs=5000)) and waiting.start(_setup())
    _until([running, waiting], lambda: running.epoch >= 2 and waiting.status == "queued")
    waiting.stop()
    assert _until([waiting], lambda: waiting.status == "cancelled") < 1
    assert waiting.message == "cancelled before it started" and waiting.run is None
    running.stop()
    assert _until([running], lambda: running.status in ("stopped", "finished")) < 1
    _until([running], lambda: running.status == "finished")
    assert running.run.metrics["stopped"] == "cancelled" and running.run.metrics["epochs_run"] < 5000
    assert thread_pool.status() == {"capacity": 1, "running": 0, "queued": 0}


@pytest.mark.slow
def test_the_pool_on_a_dask_cluster_streams_rows_and_snapshots_and_stops(caplog):
    # this process holds the scheduler, which passes the news on: it logs any it had to pickle
    caplog.set_level(logging.INFO, logger="distributed.protocol.core")
    pool = TrainingPool(DaskRunner(workers=1), ServerLimits(trainings=4))
    try:
        assert pool.capacity == 1
        first, second, third = (TrainingSession(pool=pool) for _ in range(3))
        assert first.start(_setup(epochs=25)) and second.start(_setup(epochs=5000)) and third.start(_setup())
        _until([first, second, third], lambda: first.status == "finished", 120)
        assert [r["epoch"] for r in first.history] == list(range(1, 26))
        assert first.snapshot is not None and first.data is not None and first.run.metrics["epochs_run"] == 25
        _until([second, third], lambda: second.epoch >= 3 and third.queue_position is not None, 60)
        assert third.status == "queued" and third.queue_position[:2] == (1, 1)
        third.stop()
        assert _until([third], lambda: third.status == "cancelled") < 1
        second.stop()
        assert _until([second], lambda: second.status in ("stopped", "finished")) < 1
        _until([second], lambda: second.status == "finished", 60)
        assert second.run.metrics["stopped"] == "cancelled" and second.snapshot is not None
        # the news crossed the scheduler as plain data: nothing fell back to pickling them
        assert "Failed to serialize" not in caplog.text
    finally:
        pool.close()


@pytest.mark.slow  # trains an ensemble: end to end, out of the quick loop
def test_an_ensemble_is_one_pool_job_whose_intervals_come_from_its_members(thread_pool):
    from app.state.runs import RunTable

    ensemble, other = TrainingSession(pool=thread_pool), TrainingSession(pool=thread_pool)
    setup = Setup(model_name="respiration", n_sites=60, epochs=30, patience=30, ensemble=3, intervals=True)
    assert ensemble.start(setup) and other.start(_setup())
    _until([ensemble, other], lambda: other.queue_position is not None and ensemble.status == "training")
    assert other.queue_position[:2] == (1, 1)  # behind one job, not behind three members
    assert thread_pool.status() == {"capacity": 1, "running": 1, "queued": 1}
    _until([ensemble], lambda: ensemble.history and ensemble.history[-1].get("members") == 3)  # trained together
    _until([ensemble], lambda: ensemble.status == "finished" and ensemble.ensemble is not None, 120)
    run = ensemble.run
    assert [m["seed"] for m in run.metrics["members"]] == [0, 1, 2]
    assert run.calibration["source"] == "members" and {"reco_lower", "reco_upper"} <= set(run.predictions)
    assert "of the 3 members' mean" in ensemble.message and "ensemble of 3 members" in ensemble.message
    assert ensemble.ensemble["identifiability"]["parameters"]["rb"]["verdict"]
    table = RunTable()
    table.add(run, ensemble.label)
    assert list(table.table(with_reference=False)["label"]) == ["#1 respiration default ensemble of 3"]
    _until([other], lambda: other.status == "finished")
