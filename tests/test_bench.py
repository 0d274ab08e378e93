import json

import pytest

from core.bench import dense_flops
from core.cli import main


def test_flop_count_from_layer_sizes():
    assert dense_flops(10, (4,), 2) == 2 * 10 * 4 + 2 * 4 * 2


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
    low, high = res["matmul_gflops_range"]
    assert 0 < low <= res["matmul_gflops"] <= high
    for key in ("nn", "hybrid_soc"):
        assert res[key]["seconds_per_epoch"] > 0 and res[key]["fraction_of_peak"] > 0
    assert res["reference"]["seconds_per_epoch"] > 0 and res["speedup_vs_reference"] > 0
    assert res["steady_state_sites_per_second"] > 0 and res["live_view_overhead"] >= 1.0
    # how many snapshots fit in a quick run depends on the machine's speed: the fields, not their values
    assert set(res["live_view"]) == {"snapshots_per_run", "seconds_per_snapshot", "seconds_between_snapshots",
                                     "two_run_ratio"}
