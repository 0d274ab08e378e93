"""The SOC model says when q_max is not identified: where predicted MOC / q_max is small at most
sites, sorption runs in its linear range; train's output and the dashboard carry the warning."""
import numpy as np
from types import SimpleNamespace

from core.models.soc import MODEL, UNSATURATED_RATIO
from core.report.tables import metrics_table


def _diagnostics(ratio: float) -> dict:
    q_max = np.full(10, 190.0)
    outputs = {"moc_qmax_ratio": np.full(10, ratio), "feasible": np.ones(10)}
    return MODEL.diagnostics(outputs, {"q_max": q_max}, {"moc": np.full(10, 15.0)})


def test_linear_sorption_warns_and_saturated_sorption_does_not():
    low = _diagnostics(0.09)
    assert len(low["warnings"]) == 1 and "q_max is not identified" in low["warnings"][0]
    assert "median 0.09" in low["warnings"][0] and "190 g C kg" in low["warnings"][0]
    assert _diagnostics(UNSATURATED_RATIO + 0.01)["warnings"] == []


def test_train_output_and_dashboard_show_the_warning():
    from app.ui.fit_warning import fit_warning_text

    metrics = {"targets": {"moc": {"train": {"kge": 0.8}, "val": {"kge": 0.7}}}, "mean_val_kge": 0.7,
               "epochs_run": 10, "best_epoch": 9, "stopped": "early stopping", "train_seconds": 1.0,
               "seconds_per_epoch": 0.1, "diagnostics": _diagnostics(0.05), "neural": {}}
    assert "warning: q_max is not identified" in metrics_table(metrics)
    run = SimpleNamespace(metrics=metrics, plan=None)
    html = fit_warning_text(run)
    assert "model-warning" in html and "q_max is not identified" in html
    metrics["diagnostics"] = _diagnostics(0.5)
    assert "q_max is not identified" not in metrics_table(metrics)
