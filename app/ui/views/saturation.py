"""A pool against its capacity, predicted and observed (the SOC model's MOC / q_max, the
report's Figure 8), for models that declare a ``saturation``.

During training it draws the latest live snapshot; once the run has finished, the run itself (its
kept weights), so the view does not depend on a live snapshot having reached the page. The
predicted pool is the target's prediction, or the model's output of that name where the pool is
not a target of the run (e.g. data without MOC): the model computes it either way."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.formatting import label
from core.report import saturation_histograms

from app.ui.views.base import View, empty, register


def pool_and_capacity(snapshot, target: str, capacity: str) -> pd.DataFrame | None:
    """Per site: the predicted pool (``<target>_pred``), the observed one (``<target>_obs``, NaN
    where not observed) and the capacity; None when the snapshot lacks the pool or the capacity."""
    if snapshot is None or capacity not in snapshot.parameters:
        return None
    predictions = snapshot.predictions
    predicted = predictions[f"{target}_pred"].to_numpy(float) if f"{target}_pred" in predictions else \
        snapshot.outputs.get(target)
    if predicted is None:
        return None
    observed = predictions[f"{target}_obs"].to_numpy(float) if f"{target}_obs" in predictions else \
        np.full(len(predicted), np.nan)
    return pd.DataFrame({f"{target}_pred": np.asarray(predicted, float), f"{target}_obs": observed,
                         capacity: snapshot.parameters[capacity].to_numpy(float)})


@register
class Saturation(View):
    tab = "Model"
    offer = "saturation"
    depends = ("snapshot", "run")
    columns = 2
    order = 10

    @property
    def title(self) -> str:
        return "Saturation of a pool: the pool over its capacity (1: full)"

    def render(self, state):
        target, capacity = self.spec.saturation
        ratio_name = f"{label(target)} / {label(capacity)}"
        snapshot = state.run.final_snapshot() if state.run is not None else state.snapshot
        table = pool_and_capacity(snapshot, target, capacity)
        if table is None:
            if state.run is None:
                return empty(f"{ratio_name} histograms appear during training")
            return empty(f"this run gives no {label(target)} or no {label(capacity)} per site, so no {ratio_name}")
        plots = saturation_histograms(table, table[capacity].to_numpy(), target, capacity)
        return plots or empty(f"no site has a finite {ratio_name}")
