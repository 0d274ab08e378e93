"""Measured points and the fitted curve of a few validation groups, for models that declare a
``response_curve`` (e.g. water retention: theta against suction h per horizon)."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import torch

from app.ui.views.base import View, empty, register

N_CURVES = 4


def _curve(run, curve, row, grid: np.ndarray) -> np.ndarray:
    """The model's output along the grid of one forcing for one sample's predictors (an
    ensemble's: its members' mean, as its predictions are)."""
    columns = run.model_config
    x = torch.tensor(row[columns["predictors"]].to_numpy(np.float32)[None, :]).expand(len(grid), -1)
    forcing = torch.stack([torch.tensor(grid, dtype=torch.float32) if f == curve.forcing else
                           torch.full((len(grid),), float(row[run.data.forcing[f]])) for f in columns["forcing"]], 1)
    with torch.inference_mode():
        predictions = run.model(x, forcing).predictions
    if predictions.dim() == 3:  # (members, rows, targets)
        predictions = predictions.mean(0)
    return predictions[:, columns["targets"].index(curve.target)].double().numpy()


@register
class ResponseCurves(View):
    tab = "Model"
    offer = "response_curve"
    depends = ("run",)
    title = "Response curves of validation samples (points: measured, lines: hybrid)"
    order = 30

    def render(self, state):
        run, curve = state.run, self.spec.response_curve
        if run is None or curve.target not in run.model_config["targets"]:
            return empty("curves appear when the run has finished")
        frame = run.data.frame
        group = curve.group or run.data.id
        validation = frame.iloc[run.val_rows]
        grid = np.logspace(np.log10(curve.lower), np.log10(curve.upper), 150) if curve.log else \
            np.linspace(curve.lower, curve.upper, 150)
        forcing_column, target_column = run.data.forcing[curve.forcing], run.data.targets[curve.target]
        layers = []
        for key in validation[group].drop_duplicates().to_numpy()[:N_CURVES]:
            points = validation[validation[group] == key]
            layers.append(hv.Scatter((points[forcing_column], points[target_column]), kdims=[curve.forcing],
                                     vdims=[curve.target], label=f"{group} {key}").opts(size=5))
            layers.append(hv.Curve((grid, _curve(run, curve, points.iloc[0], grid)), kdims=[curve.forcing],
                                   vdims=[curve.target]).opts(line_width=2))
        if not layers:
            return empty("no validation samples")
        return hv.Overlay(layers).opts(logx=curve.log, width=560, height=320, legend_position="right")
