import json

import pytest

from core.bench import dense_flops
from core.bench.ceiling import backbone_epochs, speedup_ceiling
from core.cli import main


def test_flop_count_from_layer_sizes():
    assert dense_flops(10, (4,), 2) == 2 * 10 * 4 + 2 * 4 * 2


def test_speedup_ceiling_follows_amdahl():
    # nothing but the backbone, which stacking does not speed up: no gain at all
    assert speedup_ceiling(1.0, 1.0, 5) == pytest.approx(1.0)
    # no backbone: everything shared, K members cost one run
    assert speedup_ceiling(0.0, 1.0, 5) == pytest.approx(5.0)
    # half the epoch in the backbone, stacked twice as fast: 5 / (0.5 + 0.5 * 5 / 2)
    assert speedup_ceiling(0.5, 2.0, 5) == pytest.approx(5 / 1.75)
    with pytest.raises(ValueError, match="backbone_share must be within"):
        speedup_ceiling(1.2, 1.0, 5)


def test_backbone_epochs_time_one_and_stacked_networks():
    from core.hybrid.network import NetworkConfig
    timed = backbone_epochs(inputs=4, outputs=2, n_train=100, n_val=20, members=3, batch_size=32,
                            network=NetworkConfig(hidden=(8, 4)), min_seconds=0, repeats=1)
    assert timed["single_seconds"] > 0 and timed["stacked_seconds"] > 0
    assert timed["stacked_backbone_speedup"] == pytest.approx(3 * timed["single_seconds"] / timed["stacked_seconds"])


@pytest.mark.slow
def test_quick_bench_writes_every_figure(tmp_path):
    """The benchmark runs and writes its fields; their values depend on the machine and are not tested."""
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res) == {"machine", "matmul_gflops", "matmul_gflops_range", "nn", "hybrid_soc", "reference", "speedup_vs_reference",
                        "steady_state_sites_per_second", "experiment_soc", "sweep_speedup", "live_view_overhead",
                        "live_view", "peak_rss_mb", "ensemble_speedup", "map"}
    assert res["experiment_soc"] is None and res["map"] is None  # both take minutes: the full bench only
    sweep = res["sweep_speedup"]
    assert sweep["failed"] == [] and sweep["runs"] == 4 and sweep["workers"] == 2
    assert sweep["sequential_seconds"] > 0 and sweep["executor_seconds"] > 0 and sweep["overhead_per_task_seconds"] < 60
    ensemble = res["ensemble_speedup"]
    assert ensemble["threads"] >= 1 and "cpu_bf16_units" in ensemble
    kinds = {(case["model"], case["sites"], case["precision"]) for case in ensemble["cases"]}
    assert {("soc", 16743, "float32"), ("soc", 1000, "float32"), ("nn", 16743, "float32")} <= kinds
    for case in ensemble["cases"]:
        assert case["speedup"] > 0 and 0 < case["members_fraction_of_peak"]
        assert case["speedup_per_epoch"] > 0 and 0 < case["backbone_share"] <= 1
        assert case["speedup_ceiling"] == pytest.approx(
            speedup_ceiling(case["backbone_share"], case["stacked_backbone_speedup"], case["members"]))
    low, high = res["matmul_gflops_range"]
    assert 0 < low <= res["matmul_gflops"] <= high
    for key in ("nn", "hybrid_soc"):
        assert res[key]["seconds_per_epoch"] > 0 and res[key]["fraction_of_peak"] > 0
    assert res["reference"]["seconds_per_epoch"] > 0 and res["speedup_vs_reference"] > 0
    assert res["steady_state_sites_per_second"] > 0 and res["live_view_overhead"] >= 1.0
    # how many snapshots fit in a quick run depends on the machine's speed: the fields, not their values
    assert set(res["live_view"]) == {"snapshots_per_run", "seconds_per_snapshot", "seconds_between_snapshots",
                                     "two_run_ratio"}


@pytest.mark.parametrize("case", ["folder", "no-parent", "user-file", "user-json", "symlink"])
def test_a_bench_out_that_cannot_take_the_result_is_refused_before_measuring(tmp_path, capsys, case):
    notes = tmp_path / "notes.txt"
    notes.write_text("my own notes\n")
    config = tmp_path / "config.json"
    config.write_text('{"model": "soc"}')  # JSON, but not a benchmark's
    out = {"folder": tmp_path, "no-parent": tmp_path / "missing" / "bench.json", "user-file": notes,
           "user-json": config, "symlink": tmp_path / "link.json"}[case]
    if case == "symlink":
        out.symlink_to(notes)
    assert main(["bench", "--quick", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    error = captured.err.strip()
    assert error.startswith("hybridlab bench: error:") and "\n" not in error, error
    assert captured.out == ""  # refused before anything was measured
    assert notes.read_text() == "my own notes\n"  # files hybridlab did not write are left as they were
    assert config.read_text() == '{"model": "soc"}'


@pytest.mark.slow
def test_a_child_process_peak_memory_is_its_own_not_its_parents():
    """ensemble_speedup measures each ensemble's peak RSS in a fresh process started from the
    (large) benchmark process: getrusage's ru_maxrss there starts at the parent's RSS."""
    import subprocess
    import sys

    import numpy as np
    import psutil

    held = np.ones(100_000_000)  # 800 MB touched in this process
    parent = psutil.Process().memory_info().rss / 2**20
    child = subprocess.run([sys.executable, "-c", "from core.bench.ensemble import _memory_mb; print(_memory_mb('VmHWM'))"],
                           capture_output=True, text=True, check=True)
    assert float(child.stdout.strip()) < parent - 700, (child.stdout, parent)
    del held


def test_an_earlier_benchmark_result_may_be_replaced_and_a_large_file_is_not_read(tmp_path):
    from core.cli.commands.bench import BENCH_RESULT_MAX_BYTES, check_bench_out
    from core.errors import HybridlabError

    earlier = tmp_path / "bench.json"
    earlier.write_text(json.dumps({"machine": {"cores": 2, "torch": "2.13.0"}, "nn": {}}))
    assert check_bench_out(str(earlier)) == earlier
    large = tmp_path / "large.json"
    large.write_text(json.dumps({"machine": {"cores": 2}, "pad": "x" * BENCH_RESULT_MAX_BYTES}))
    with pytest.raises(HybridlabError, match="not a benchmark result"):
        check_bench_out(str(large))
