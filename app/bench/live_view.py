"""The dashboard's part of ``hybridlab bench`` (registered under the entry-point group
``hybridlab.benchmarks``): what the live views cost a training."""
from __future__ import annotations

import statistics

import core

from app.training.news import Snapshot
from app.training.observer import LiveObserver, SnapshotPacer


def live_view(quick: bool, log=print) -> dict:
    """Epoch time of a five_neural SOC run with the dashboard's live snapshots over that without.

    Snapshots are paced as in the dashboard (:class:`SnapshotPacer`) and handed to a no-op (the
    Bokeh updates run in the server thread). The ratio is taken inside each live run, the time
    after warm-up over that time less the time spent on snapshots, because this machine's speed
    drifts by 10-30 % between runs of a few seconds, more than the effect measured; the ratio of
    alternating runs with and without snapshots (``two_run_ratio``) is reported beside it."""
    epochs, warmup, pairs = (15, 1, 1) if quick else (40, 5, 5)
    plan = core.RunPlan(model="soc", roles="five_neural", data={"name": "lucas-synthetic"},
                        train=core.TrainConfig(epochs=epochs, patience=10 ** 6, seed=0))

    def span(history) -> float:
        return history[-1]["elapsed_seconds"] - history[warmup - 1]["elapsed_seconds"]

    within, two_run, costs, counts, spans = [], [], [], [], []
    for _ in range(pairs):
        plain = span(core.execute(plan).result.history)
        snapshots = []
        observer = LiveObserver(lambda news: snapshots.append(news.snapshot) if isinstance(news, Snapshot) else None,
                                SnapshotPacer())
        history = core.execute(plan, observer=observer).result.history
        # the last snapshot shows the kept weights after training, outside the timed epochs
        measured = [s.seconds for s in snapshots[:-1] if s.epoch > warmup]
        live = span(history)
        within.append(live / (live - sum(measured)))
        two_run.append(live / plain)
        costs += measured
        counts.append(len(measured))
        spans.append(live)
    details = {"snapshots_per_run": statistics.mean(counts),
               "seconds_per_snapshot": statistics.median(costs) if costs else None,
               "seconds_between_snapshots": sum(spans) / sum(counts) if sum(counts) else None,
               "two_run_ratio": statistics.median(two_run)}
    overhead = float(statistics.median(within))
    log(f"live view overhead: {overhead:.3f} ({details})")
    return {"live_view_overhead": overhead, "live_view": details}
