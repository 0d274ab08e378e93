"""The session's finished runs, compared in a table with the report's numbers as reference rows,
and the downloads of a finished run."""
from __future__ import annotations

import io
import json
import math

import pandas as pd
import param

import core
from core.experiments import VALIDATION_KGE

from app.state.session import data_label


def _rounded(value):
    return round(value, 3) if value is not None and math.isfinite(value) else None


class RunTable(param.Parameterized):
    """Every finished run of the session, for comparison."""

    records = param.List(default=[])
    keep = param.Integer(default=20, bounds=(1, None), doc="runs kept; the oldest drop out beyond it")
    dropped = param.Integer(default=0, doc="runs that dropped out")

    def add(self, run: core.Run, label: str, data: str = "") -> None:
        """A finished run; ``data``: what its data are called (the uploaded file's name, the built-in
        set's; by default the run's data source), shown with the sites it trained on."""
        if run is None or any(r["run"] is run for r in self.records):
            return
        metrics = run.metrics
        number = len(self.records) + self.dropped + 1
        record = {"run": run, "label": f"#{number} {label}", "model": metrics["model"],
                  "data": data_label(data or run.data.name, run.data)}
        for target, splits in metrics["targets"].items():
            record[f"val KGE {target}"] = _rounded(splits["val"]["kge"])
        record.update({"mean val KGE": _rounded(metrics["mean_val_kge"]), "epochs": metrics["epochs_run"],
                       "seconds": round(metrics["train_seconds"], 1),
                       "neural": ", ".join(k for k, v in metrics["roles"].items() if v == "neural"),
                       "global": ", ".join(k for k, v in metrics["roles"].items() if v == "global")})
        records = self.records + [record]
        excess = max(0, len(records) - self.keep)
        self.dropped += excess
        self.records = records[excess:]

    def clear(self) -> None:
        """Let go of every run (when the session ends)."""
        self.records = []

    def record(self, label: str | None) -> dict | None:
        """The kept run called ``label`` (with its ``run``), None when it dropped out or is unknown."""
        return next((r for r in self.records if r["label"] == label), None)

    def table(self, with_reference: bool = True, extra: list[dict] = ()) -> pd.DataFrame:
        """One row per run, then the ``extra`` rows (baselines fitted on their splits); the
        report's rows too when a run fitted the report's targets."""
        rows = [{k: v for k, v in r.items() if k != "run"} for r in self.records] + list(extra)
        reference_targets = {t for values in VALIDATION_KGE.values() for t in values}
        fitted = {c.removeprefix("val KGE ") for r in rows for c in r if c.startswith("val KGE ")}
        if with_reference and fitted & reference_targets:
            for name, values in VALIDATION_KGE.items():
                rows.append({"label": f"report: {name}", "model": "LUCAS 2018 (report)",
                             **{f"val KGE {t}": v for t, v in values.items()}})
        return pd.DataFrame(rows)


def export_bytes(run: core.Run, what: str) -> io.BytesIO:
    """A finished run's config (JSON, as in its run folder), metrics (JSON), predictions or
    parameters (CSV), or model (state dict)."""
    import torch

    buffer = io.BytesIO()
    if what == "config":
        buffer.write(json.dumps(core.run_config(run), indent=2).encode())
    elif what == "metrics":
        buffer.write(json.dumps(core.json_safe(run.metrics), indent=2).encode())
    elif what == "predictions":
        run.predictions.to_csv(buffer, index=False)
    elif what == "parameters":
        run.parameters.to_csv(buffer, index=False)
    elif what == "model":
        torch.save(run.model.state_dict(), buffer)
    else:
        raise core.HybridlabError(f"unknown export {what!r}")
    buffer.seek(0)
    return buffer
