"""The one thread rule (core.compute.threads): its inputs read from real files, its arithmetic, its
overrides and bad values, and that each kind of process that trains applies it (a command line,
the executor's Dask workers, the contention benchmark's plumbing). No test here times anything."""
import json
import os
import subprocess
import sys

import pytest
import torch

from core.compute import threads
from core.cli import main
from core.errors import HybridlabError
from core.compute.threads import Machine, choose

QUIET = {}  # an environment without HYBRIDLAB_THREADS


def _environment(**extra) -> dict:
    """This environment as a fresh shell has it: without the thread settings this process made."""
    left_out = (threads.THREADS_ENV, "HYBRIDLAB_TORCH_THREADS", *threads.PASSIVE_VARIABLES, *threads.THREAD_VARIABLES)
    return {**{k: v for k, v in os.environ.items() if k not in left_out}, **extra}


def test_a_cgroup_v2_quota_file_caps_the_usable_cores(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")
    assert threads.cgroup_quota(cpu_max, tmp_path / "none", tmp_path / "none") == pytest.approx(1.5)
    assert Machine(affinity=4, quota=1.5).usable == 1
    assert Machine(affinity=4, quota=2.0).usable == 2
    assert Machine(affinity=2, quota=8.0).usable == 2  # the affinity is the cap
    assert Machine(affinity=4, quota=0.5).usable == 1  # never below one
    cpu_max.write_text("max 100000\n")
    assert threads.cgroup_quota(cpu_max, tmp_path / "none", tmp_path / "none") is None


def test_a_cgroup_v1_quota_and_no_quota_at_all(tmp_path):
    quota, period = tmp_path / "cpu.cfs_quota_us", tmp_path / "cpu.cfs_period_us"
    quota.write_text("300000\n")
    period.write_text("100000\n")
    assert threads.cgroup_quota(tmp_path / "missing", quota, period) == pytest.approx(3.0)
    quota.write_text("-1\n")
    assert threads.cgroup_quota(tmp_path / "missing", quota, period) is None
    assert threads.cgroup_quota(tmp_path / "a", tmp_path / "b", tmp_path / "c") is None


def test_the_affinity_is_this_process_cpus():
    assert threads.affinity_cores() == len(os.sched_getaffinity(0))


def test_the_cores_are_divided_among_the_trainings_at_once_at_least_one_each():
    assert choose(1, machine=Machine(8), environ=QUIET).threads == 8
    assert choose(3, machine=Machine(8), environ=QUIET).threads == 2
    assert choose(16, machine=Machine(8), environ=QUIET).threads == 1
    assert choose(2, machine=Machine(8, quota=4.0), environ=QUIET).threads == 2
    choice = choose(3, machine=Machine(8), environ=QUIET)
    assert (choice.source, choice.trainings, choice.usable) == ("rule", 3, 8)


def test_a_busy_machine_gets_fewer_threads():
    assert choose(1, machine=Machine(2, busy=2), environ=QUIET).threads == 1
    assert choose(1, machine=Machine(2, busy=1), environ=QUIET).threads == 1
    assert choose(1, machine=Machine(8, busy=3), environ=QUIET).threads == 5
    assert choose(2, machine=Machine(8, busy=2), environ=QUIET).threads == 3
    assert choose(1, machine=Machine(8, busy=20), environ=QUIET).threads == 1
    assert choose(1, machine=Machine(8, busy=0.4), environ=QUIET).threads == 8  # a passing task is no load
    assert "2 other runnable task(s)" in choose(1, machine=Machine(2, busy=2), environ=QUIET).reason


def test_the_busy_reading_comes_from_proc_stat_and_leaves_out_the_reader(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3\nprocs_running 4\nprocs_blocked 0\n")
    assert threads.runnable_tasks(stat) == 4
    assert threads.busy_tasks(stat, samples=3, interval=0) == 3.0
    assert threads.busy_tasks(tmp_path / "missing", samples=3, interval=0) == 0.0


def test_threads_and_the_environment_variable_replace_the_rule():
    busy = Machine(2, busy=5)
    assert choose(1, 2, machine=busy, environ=QUIET).threads == 2
    assert choose(1, 2, machine=busy, environ=QUIET).reason == "--threads 2"
    by_env = choose(4, machine=busy, environ={threads.THREADS_ENV: "2"})
    assert (by_env.threads, by_env.source) == (2, threads.THREADS_ENV)
    assert choose(1, 1, machine=busy, environ={threads.THREADS_ENV: "2"}).threads == 1  # the flag wins


@pytest.mark.parametrize("value, named", [(0, "got 0"), (-3, "got -3"), (10 ** 6, "got 1000000")])
def test_a_thread_count_out_of_range_is_refused_naming_it(value, named):
    with pytest.raises(HybridlabError, match=named):
        choose(1, value, environ=QUIET)


@pytest.mark.parametrize("value", ["abc", "1.5", "0", ""])
def test_a_bad_environment_variable_is_refused_naming_it(value):
    environ = {threads.THREADS_ENV: value}
    if value == "":  # empty: not set
        assert choose(1, machine=Machine(2), environ=environ).source == "rule"
        return
    with pytest.raises(HybridlabError, match=threads.THREADS_ENV):
        choose(1, machine=Machine(2), environ=environ)


def test_on_cuda_the_threads_serve_the_data_pipeline():
    choice = choose(1, machine=Machine(4), environ=QUIET, device="cuda:0")
    assert choice.device == "cuda" and choice.threads == 4 and "data pipeline only" in choice.reason
    assert choose(1, machine=Machine(4), environ=QUIET, device="cpu").device == "cpu"


def test_the_passive_wait_policy_is_set_before_torch_only_when_asked_and_not_set_already():
    environ = {}
    assert threads.set_wait_policy(environ) == "DEFAULT" and environ == {}
    asked = {threads.PASSIVE_ENV: "1"}
    assert threads.set_wait_policy(asked) == "PASSIVE"
    assert {name: asked[name] for name in threads.PASSIVE_VARIABLES} == threads.PASSIVE_VARIABLES
    off = {threads.PASSIVE_ENV: "0"}
    assert threads.set_wait_policy(off) == "DEFAULT" and "OMP_WAIT_POLICY" not in off
    own = {"OMP_WAIT_POLICY": "active"}
    assert threads.set_wait_policy(own) == "ACTIVE"
    with pytest.raises(HybridlabError, match="HYBRIDLAB_OMP_PASSIVE='yes'"):
        threads.check_passive({threads.PASSIVE_ENV: "yes"})


def test_a_child_process_gets_the_wait_policy_and_thread_counts():
    environ = {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0", "PATH": "/bin"}
    child = threads.child_environment(3, environ)
    assert child["OMP_WAIT_POLICY"] == "PASSIVE" and "PATH" not in child
    assert all(child[name] == "3" for name in threads.THREAD_VARIABLES)


def _train(tmp_path, *flags, **env) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "core", "train", "--model", "respiration", "--n-sites", "20", "--epochs", "2",
               "--out", str(tmp_path / "run"), "--quiet", "--verbose", *flags]
    return subprocess.run(command, capture_output=True, text=True, env=_environment(**env), timeout=300)


@pytest.mark.slow  # a `hybridlab train` process
def test_train_with_threads_1_runs_torch_with_one_intra_op_thread(tmp_path):
    done = _train(tmp_path, "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert "threads: 1 intra-op, 1 inter-op; OpenMP wait policy DEFAULT; --threads 1" in done.stderr


@pytest.mark.slow  # a `hybridlab train` process
def test_train_takes_hybridlab_threads_and_can_make_openmp_yield(tmp_path):
    done = _train(tmp_path, HYBRIDLAB_THREADS="2", HYBRIDLAB_OMP_PASSIVE="1")
    assert done.returncode == 0, done.stderr
    assert "threads: 2 intra-op, 2 inter-op; OpenMP wait policy PASSIVE; HYBRIDLAB_THREADS 2" in done.stderr


@pytest.mark.slow  # a `hybridlab train` process
@pytest.mark.parametrize("flags, env, named", [
    (["--threads", "0"], {}, "--threads must be between 1 and"),
    ([], {"HYBRIDLAB_THREADS": "abc"}, "HYBRIDLAB_THREADS='abc'"),
    ([], {"HYBRIDLAB_OMP_PASSIVE": "on"}, "HYBRIDLAB_OMP_PASSIVE='on'"),
])
def test_bad_thread_input_is_one_line_and_exit_code_2(tmp_path, flags, env, named):
    done = _train(tmp_path, *flags, **env)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and named in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_the_rule_sets_the_data_pipeline_threads(tmp_path):
    done = _train(tmp_path, "--device", "cuda")
    assert done.returncode == 0, done.stderr
    assert "device cuda: these threads serve the data pipeline only" in done.stderr


@pytest.mark.slow
def test_the_executor_workers_take_the_rules_count(monkeypatch):
    from core.compute.executor import Executor

    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    with Executor(workers=2) as executor:
        chosen = executor.thread_choice
        assert chosen.source == "rule" and chosen.trainings == 2
        reported = executor.worker_threads()
        on_calls = executor.map(threads.torch_threads, [0, 1])
    assert len(reported) == 2
    for worker in reported:
        assert worker["threads"] == worker["intra_op"] == chosen.threads and worker["trainings"] == 2
        assert worker["wait_policy"] == threads.wait_policy()
    assert [call["intra_op"] for call in on_calls] == [chosen.threads] * 2


@pytest.mark.slow
def test_workers_of_an_external_cluster_apply_the_rule_on_their_machine(dask_cluster):
    from core.compute.executor import Executor

    address, workers = dask_cluster
    with Executor(scheduler=address) as executor:
        reported = executor.worker_threads()
    assert len(reported) == len(workers) == 2
    for worker in reported:  # the two workers share their host's cores
        if worker["source"] == "HYBRIDLAB_THREADS":  # under xdist the conftest exports an override to children
            assert worker["intra_op"] == worker["threads"] == int(os.environ[threads.THREADS_ENV])
            continue
        assert worker["source"] == "rule" and worker["trainings"] == 2
        assert worker["intra_op"] == worker["threads"] <= max(1, worker["usable"] // 2)


@pytest.mark.slow
def test_contention_bench_plumbing_writes_its_fields(tmp_path):
    """Tiny trainings beside one busy process: the JSON's shape, not its values (not a timed test)."""
    out = tmp_path / "contention.json"
    assert main(["bench", "--contention", "--quick", "--repeats", "1", "--busy", "0,1", "--variants",
                 "rule-passive", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"cores", "cpu", "affinity", "cgroup_quota", "torch"} <= set(result["machine"])
    case = result["contention"]
    assert (case["repeats"], case["busy"], case["variants"], case["baseline"]) == (1, [0, 1], ["rule-passive"],
                                                                                 "rule-passive")
    assert {(r["training"], r["busy"]) for r in case["rows"]} == {(t, b) for t in ("respiration", "soc") for b in (0, 1)}
    for row in case["rows"]:
        assert len(row["seconds"]) == 1 and row["threads"] >= 1 and row["wait_policy"] == "PASSIVE"
        assert row["slowdown"] == pytest.approx(1.0) if row["busy"] == 0 else row["slowdown"] > 0
        assert row["reason"].startswith("rule:")


@pytest.mark.parametrize("flags, named", [(["--variants", "fast"], "'fast' is none of"),
                                          (["--busy", "one"], "--busy expects whole numbers"),
                                          (["--repeats", "0"], "--repeats must be between")])
def test_bad_contention_flags_are_refused_before_measuring(tmp_path, capsys, flags, named):
    assert main(["bench", "--contention", "--quick", *flags, "--out", str(tmp_path / "c.json")]) == 2
    assert named in capsys.readouterr().err and not (tmp_path / "c.json").exists()
