"""The role search started from the page: the training pool as a core executor, one group per
user's share, Stop, and the path growing in :class:`app.state.role_search.RoleSearchSession`."""
import threading
import time

import pytest

import core
from app.limits import ServerLimits
from app.training.pool import TrainingPool
from app.training.pool_executor import PoolExecutor
from app.state.role_search import RoleSearchSession, step_of
from app.training.runners import ThreadRunner
from app.state.session import TrainingSession
from app.state.setup import Setup
from core.run.store import is_run_folder
from core.sweep import SweepPlan, run_sweep, run_tasks


@pytest.fixture
def pool():
    pool = TrainingPool(ThreadRunner(2), ServerLimits(trainings=2))
    yield pool
    pool.close()


def _respiration(epochs=40):
    return Setup(model_name="respiration", n_sites=60, epochs=epochs, patience=epochs)


def _until(condition, seconds=120, sync=()):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for item in sync:
            item.sync()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not reached in {seconds} s")


def test_step_of_reads_the_search_configuration_names():
    assert step_of("all_global") == (0, None)
    assert step_of("neural=rb") == (1, "rb")
    assert step_of("neural=cue+q_max+k_b") == (3, "k_b")


@pytest.mark.slow  # trains several runs: end to end, out of the quick loop
def test_a_sweep_on_the_pool_counts_once_against_its_user_and_writes_its_runs(pool, tmp_path):
    base = _respiration().plan().to_dict()
    sweep = SweepPlan(base=base, seeds=[0, 1], configurations={"a": {}, "b": {"roles": {"rb": "global"}}}, pack_seeds=True)
    executor = PoolExecutor(pool, "alice")
    result = {}
    worker = threading.Thread(target=lambda: result.update(outcome=run_sweep(sweep, tmp_path, executor=executor)))
    worker.start()
    _until(lambda: executor.jobs)
    # four runs of one sweep take one share: a training of the same user is refused, another user's is taken
    same_user, other_user = TrainingSession(pool=pool, owner="alice"), TrainingSession(pool=pool, owner="bob")
    assert not same_user.start(_respiration())
    assert "limit per user" in same_user.message
    assert other_user.start(_respiration())
    worker.join(300)
    table = result["outcome"].table
    assert list(table["status"]) == ["finished"] * 4  # one row per seed
    # the two seeds of a configuration trained as one ensemble run, written to one folder
    assert sorted(set(table["run"])) == ["a__seeds0-1", "b__seeds0-1"]
    assert all(is_run_folder(tmp_path / "runs" / name) for name in table["run"])
    _until(lambda: other_user.status == "finished", sync=[other_user])


def test_stop_cancels_queued_runs_at_once_and_ends_running_ones_without_a_folder(pool, tmp_path):
    plan = _respiration(epochs=5000).plan().to_dict()
    tasks = [{"name": f"run-{k}", "axes": {"seed": k}, "plan": plan, "out": str(tmp_path / f"run-{k}")}
             for k in range(4)]
    executor, stop, rows = PoolExecutor(pool, "alice"), threading.Event(), []
    worker = threading.Thread(target=lambda: rows.extend(run_tasks(executor, tasks, stop_event=stop)))
    worker.start()
    _until(lambda: executor.counts().get("running") == 2)
    stop.set()
    worker.join(60)
    assert not worker.is_alive() and len(rows) == 4
    errors = [row["error"] for row in rows]
    assert [row["status"] for row in rows] == ["failed"] * 4
    assert errors.count("cancelled before it started") == 2
    assert sum(error.startswith("InterruptedError: stopped before the end") for error in errors) == 2
    assert not any(is_run_folder(tmp_path / f"run-{k}") for k in range(4))
    assert pool.status() == {"capacity": 2, "running": 0, "queued": 0}


def test_runs_that_start_together_in_threads_give_the_same_result_for_the_same_seed():
    """Without the workers the pool trains in threads, and torch has one random generator per process."""
    import torch

    plan = _respiration(epochs=3).plan().to_dict()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(1)  # serial arithmetic: any difference is in the random draws, not in summation order
    alone = core.execute(plan).metrics["mean_val_kge"]  # also loads the data into the cache
    barrier, results = threading.Barrier(4), []

    def run():
        barrier.wait()
        results.append(core.execute(plan).metrics["mean_val_kge"])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    torch.set_num_threads(threads_before)
    assert results == [alone] * 4


@pytest.mark.slow
def test_the_search_from_the_page_grows_its_path_and_makes_rb_neural(pool):
    import importlib

    import holoviews as hv

    importlib.import_module("holoviews.plotting.bokeh")
    from app.ui.role_search_tab import path_figure, path_table, search_status

    search = RoleSearchSession(pool=pool, seeds=2)
    assert search.start(_respiration(epochs=60))
    seen = []  # (steps decided, candidates of the current step with a result)
    drawn = []  # what the figure last showed: drawn again only when it changed, as the page does

    def record():
        seen.append((len(search.path), len([v for v in search.trying.values() if v])))
        text = search_status(search.status, search.step, search.progress, search.message)
        assert "search-status" in text
        shown = (len(search.path), repr(search.trying), search.step)
        if not drawn or drawn[-1] != shown:
            hv.render(path_figure(search.path, search.trying, search.step))
            drawn.append(shown)
        return search.status in ("finished", "stopped", "error")

    _until(record, 300, sync=[search])
    assert search.status == "finished", search.message
    path = search.path
    assert path[0]["parameter"] is None and path[1]["parameter"] == "rb" and path[1]["accepted"]
    assert path[1]["mean_val_kge"] > path[0]["mean_val_kge"] + 0.3
    # the path grew step by step, and candidates showed while a step trained
    assert sorted({steps for steps, _ in seen}) == list(range(len(path) + 1))[-len({s for s, _ in seen}):]
    assert any(current > 0 for _, current in seen)
    table = path_table(path, search.trying, search.step)
    assert table.count("class='path-step'") == len(path) and "rb" in table
    setup = _respiration()
    setup.apply_preset("all_global")
    assert search.use_roles(setup) and setup.roles["rb"] == "neural" and setup.roles["t_ref"] == "fixed"
    assert setup.roles["q10"] == ("neural" if "q10" in path[-1]["neural"] else "global")
    assert not search.use_roles(Setup(model_name="soc")) and "model 'respiration'" in search.message
    folder = search.folder
    assert (folder / "role_search.json").is_file() and (folder / "step-1").is_dir()
    search.discard()
    assert not folder.exists()


def test_a_search_beyond_the_server_limit_or_of_a_pure_network_is_refused_in_one_line():
    pool = TrainingPool(ThreadRunner(1), ServerLimits(trainings=1, role_search_runs=20))
    try:
        search = RoleSearchSession(pool=pool, seeds=2)
        assert not search.start(Setup(model_name="soc", n_sites=100, epochs=5))
        assert search.status == "error" and "12 candidates x 2 seeds = 24 runs per step, over this server's limit of 20" \
            in search.message and "\n" not in search.message
        search.candidates = ["cue", "q_max"]
        assert search.plan(Setup(model_name="soc", n_sites=100, epochs=5)).candidates == ["cue", "q_max"]
        search.candidates = ["t_ref"]
        with pytest.raises(core.HybridlabError, match="t_ref cannot be made neural"):
            search.plan(_respiration())
        search.candidates = []
        assert not search.start(Setup(model_name="nn", n_sites=100, epochs=5))
        assert "has no mechanistic parameters" in search.message
    finally:
        pool.close()
