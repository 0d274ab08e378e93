import json

from core.bench import dense_flops
from core.cli import main


def test_flop_count_from_layer_sizes():
    assert dense_flops(10, (4,), 2) == 2 * 10 * 4 + 2 * 4 * 2


def test_quick_bench_writes_every_figure(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert set(res) == {"machine", "matmul_gflops", "matmul_gflops_range", "nn", "hybrid_soc", "reference", "speedup_vs_reference",
                        "steady_state_sites_per_second", "experiment_soc_seconds", "live_view_overhead", "live_view",
                        "peak_rss_mb"}
    assert res["experiment_soc_seconds"] is None
    low, high = res["matmul_gflops_range"]
    assert 0 < low <= res["matmul_gflops"] <= high
    for key in ("nn", "hybrid_soc"):
        assert res[key]["seconds_per_epoch"] > 0 and 0 < res[key]["fraction_of_peak"] < 2
    assert res["reference"]["seconds_per_epoch"] > 0 and res["speedup_vs_reference"] > 0
    assert res["steady_state_sites_per_second"] > 1000 and res["live_view_overhead"] >= 1.0
    assert res["live_view"]["snapshots_per_run"] >= 1 and res["live_view"]["seconds_per_snapshot"] > 0
