"""Validation loss of the chosen finished runs over the epochs."""
from __future__ import annotations

import holoviews as hv

from app.ui.views.base import empty


def compare_overlay(records: list[dict], labels: list[str]):
    chosen = [r for r in records if r["label"] in labels]
    if not chosen:
        return empty("select finished runs to overlay their validation loss")
    # each curve names the data its run trained on
    curves = [hv.Curve(r["run"].history, "epoch", "val_loss", label=" · ".join(filter(None, (r["label"], r.get("data")))))
              for r in chosen]
    return hv.Overlay(curves).opts(
        title="validation loss of selected runs", responsive=True, height=300, legend_position="top_right")
