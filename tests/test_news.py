"""Typed news from a training to its page (app.training.news): frozen kinds, the inbox that keeps
their order, the session handling each by its type, and the plain-data form that crosses a Dask
queue without Dask's pickle fallback."""
import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest

import core
from app.state.inbox import Inbox, dispatch
from app.state.session import TrainingSession
from app.training import news
from app.training.pool import TrainingPool
from app.training.runners import ThreadRunner


def test_a_misspelled_field_fails_where_the_news_is_made_and_news_do_not_change():
    with pytest.raises(TypeError, match="rows"):
        news.Epoch(rows=[{"epoch": 1}])
    with pytest.raises(TypeError, match="lenght"):
        news.Queued(place=1, lenght=2)
    failed = news.Failed("training failed: boom")
    with pytest.raises(dataclasses.FrozenInstanceError):
        failed.message = "fine"


def test_the_inbox_keeps_the_order_the_newest_snapshot_and_drops_an_earlier_jobs_news():
    inbox = Inbox()
    token = inbox.reset()
    for item in (news.Queued(2, 3), news.Queued(1, 2), news.Started(), news.Epoch({"epoch": 1}),
                 news.Snapshot("first"), news.Epoch({"epoch": 2}), news.Snapshot("second")):
        inbox.post(item, token=token)
    inbox.post(news.Failed("of the job before"), token=object())
    taken = inbox.take()
    assert [type(n).__name__ for n in taken] == ["Queued", "Started", "Epoch", "Epoch", "Snapshot"]
    assert (taken[0].place, taken[0].length) == (1, 2) and taken[-1].snapshot == "second"
    assert inbox.take() == []
    with pytest.raises(TypeError, match="takes news"):
        inbox.post({"row": {"epoch": 3}}, token=token)


def test_news_without_a_handler_fail_loudly():
    seen = []
    dispatch({news.Started: lambda n: seen.append(n)}, [news.Started()])
    assert seen == [news.Started()]
    with pytest.raises(TypeError, match="no handler for news Stopped; handled: Started"):
        dispatch({news.Started: seen.append}, [news.Stopped()])


def _snapshot():
    predictions = pd.DataFrame({"id": [1, 2, 3], "split": ["train", "val", "val"], "reco_obs": [1.0, 2.0, 3.0],
                                "reco_pred": [1.1, 1.9, 3.2]})
    return core.Snapshot(4, predictions, pd.DataFrame({"id": [1, 2, 3], "rb": [0.5, 0.6, 0.7]}),
                         {"reco": {"val": {"kge": 0.8}}}, {"reco": np.array([1.1, 1.9, 3.2])})


def test_news_cross_a_dask_message_as_plain_data_without_the_pickle_fallback(caplog):
    from distributed.protocol import dumps, loads, to_serialize

    snapshot = _snapshot()
    sent = [news.Loaded(), news.Epoch({"epoch": 4, "val_loss": 0.25, "batches": np.int64(3)}), news.Snapshot(snapshot),
            news.Stopped()]
    wire = [news.to_wire(item, to_serialize) for item in sent]
    assert wire[0] == {"kind": "Loaded", "data": None} and wire[3] == {"kind": "Stopped"}
    with caplog.at_level(logging.INFO, logger="distributed.protocol.core"):
        frames = dumps({"op": "queue_put", "data": wire})
        assert "Failed to serialize" not in caplog.text
        dumps({"op": "queue_put", "data": news.Snapshot(snapshot)})  # the news itself: Dask falls back
        assert "Failed to serialize" in caplog.text
    back = [news.from_wire(item) for item in loads(frames)["data"]]
    assert [type(n) for n in back] == [type(n) for n in sent]
    assert back[1].row == {"epoch": 4, "val_loss": 0.25, "batches": 3}  # a numpy count went through Dask, whole
    assert back[2].snapshot.predictions.equals(snapshot.predictions) and back[2].snapshot.epoch == 4
    with pytest.raises(core.HybridlabError, match="news Finished cannot cross a queue"):
        news.to_wire(news.Finished(), to_serialize)
    with pytest.raises(core.HybridlabError, match="unknown news 'Epochs'"):
        news.from_wire({"kind": "Epochs", "rows": []})


@pytest.fixture
def session():
    pool = TrainingPool(ThreadRunner(1))
    yield TrainingSession(pool=pool)
    pool.close()


def test_the_session_takes_each_kind_of_news_by_its_type(session):
    plan = core.RunPlan(model="respiration", data={"name": "respiration-synthetic", "n": 20, "seed": 1},
                        network={"hidden": [8]}, train={"epochs": 2, "patience": 2})
    run = core.execute(plan)
    token = session.inbox.reset()
    session.max_epochs, session.data_name = 2, "respiration-synthetic"
    session.inbox.post(news.Queued(1, 1, 30.0), token=token)
    assert session.sync() and (session.status, session.queue_position) == ("queued", (1, 1, 30.0))
    for item in (news.Started(), news.Loaded(run.data), *(news.Epoch(row) for row in run.result.history),
                 news.Snapshot(run.final_snapshot())):
        session.inbox.post(item, token=token)
    assert session.sync()
    assert (session.status, session.message, session.epoch, len(session.history)) == ("training", "", 2, 2)
    assert session.data is run.data and session.data_label == "respiration-synthetic (20 sites)"
    assert session.snapshot.epoch == run.result.best_epoch
    session.inbox.post(news.Finished(run), token=token)
    assert session.sync() and session.status == "finished" and session.run is run
    assert session.message.startswith("max epochs after 2 epochs") and "members" not in session.message
    assert not session.sync()  # nothing new
    session.inbox.post(news.Failed("cannot train: no data"), token=token)
    session.sync()
    assert (session.status, session.message) == ("error", "cannot train: no data")
    session.inbox.post(news.Returned(1), token=token)  # a call's end: not the session's news
    with pytest.raises(TypeError, match="no handler for news Returned"):
        session.sync()
