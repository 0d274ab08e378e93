"""Maps of a finished run over the server's covariate grid (``hybridlab serve --grid``): every
target's prediction and every neural parameter, on a thinned grid (``core.mapping.preview_map``).
Drawn offline, as images in the grid's own coordinates: no map tiles are fetched."""
from __future__ import annotations

import holoviews as hv
import numpy as np

import core
from core.mapping import preview_map

from app.ui.views.base import View, empty, register


@register
class GridMap(View):
    tab = "Parameters"
    depends = ("run", "grid")
    title = "Maps over the server's covariate grid"
    columns = 3
    order = 70

    def render(self, state):
        if not state.grid:
            return empty("start the dashboard with `hybridlab serve --grid GRID` to map each finished run")
        if state.run is None:
            return empty("maps appear here when a run finishes")
        try:
            result = preview_map(state.run.model, core.run_config(state.run), state.grid)
        except core.HybridlabError as error:
            return empty(f"cannot map this run over the grid: {error}")
        plots, step = [], result["step"]
        thinned = "every pixel" if step == 1 else f"1 pixel in {step} x {step}"
        for name, values in result["values"].items():
            finite = values[np.isfinite(values)]
            if not finite.size:
                continue
            image = hv.Image((result["x"], result["y"], values), kdims=["x", "y"], vdims=[name])
            left, bottom, right, top = image.bounds.lbrt()  # the pixels' outer edges, in the grid's CRS
            plots.append(image.opts(cmap="viridis", colorbar=True, width=360, height=280, tools=["hover"],
                                    xlim=(left, right), ylim=(bottom, top),
                                    title=f"{name} ({thinned}; {result['crs'] or 'no CRS'})",
                                    fontsize={"title": 9}))
        return plots or empty("no pixel of the grid could be mapped (missing covariates or forcing)")
