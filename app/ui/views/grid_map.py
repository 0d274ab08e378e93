"""Maps of a finished run over the server's covariate grid (``hybridlab serve --grid``): every
target's prediction and every neural parameter, on a thinned grid (``core.mapping.preview_map``).
Pixels outside the run's area of applicability are grey in every map, and a note above the maps
gives their share of the grid. Drawn offline, as images in the grid's own coordinates: no map
tiles are fetched."""
from __future__ import annotations

import holoviews as hv
import numpy as np

import core
from core.mapping import preview_map

from app.ui.views.base import View, empty, register

#: the colour of pixels outside the area of applicability
OUTSIDE_GREY = "#9e9e9e"


def outside_note(result: dict) -> str:
    """The share of the mapped grid outside the area of applicability, as one sentence."""
    thinned = "" if result["step"] == 1 else f" (1 pixel in {result['step']} x {result['step']})"
    outside = round(result["outside_aoa"] * result["mapped"])
    return (f"{result['outside_aoa']:.1%} of the mapped grid{thinned} lies outside the run's area of applicability "
            f"({outside} of {result['mapped']} pixels with a dissimilarity index above {result['threshold']:.3g}); "
            f"those pixels are grey in every map")


def _image(result: dict, name: str, values: np.ndarray, outside: np.ndarray | None, title: str):
    """One map: the values inside the area of applicability, grey pixels outside it."""
    shown = np.where(outside, np.nan, values) if outside is not None else values
    image = hv.Image((result["x"], result["y"], shown), kdims=["x", "y"], vdims=[name])
    left, bottom, right, top = image.bounds.lbrt()  # the pixels' outer edges, in the grid's CRS
    image = image.opts(cmap="viridis", colorbar=True, tools=["hover"])
    if outside is not None and outside.any():
        grey = hv.Image((result["x"], result["y"], np.where(outside, 1.0, np.nan)), kdims=["x", "y"],
                        vdims=["outside the area of applicability"])
        image = image * grey.opts(cmap=[OUTSIDE_GREY], colorbar=False, clipping_colors={"NaN": (0, 0, 0, 0)})
    return image.opts(hv.opts.Image(width=360, height=280, xlim=(left, right), ylim=(bottom, top), title=title,
                                    fontsize={"title": 9}), hv.opts.Overlay(title=title, fontsize={"title": 9}))


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
            result = preview_map(state.run, state.grid)
        except core.HybridlabError as error:
            return empty(f"cannot map this run over the grid: {error}")
        step = result["step"]
        thinned = "every pixel" if step == 1 else f"1 pixel in {step} x {step}"
        outside = result["aoa"] == 0 if result["aoa"] is not None else None
        plots = [_image(result, name, values, outside, f"{name} ({thinned}; {result['crs'] or 'no CRS'})")
                 for name, values in result["values"].items() if np.isfinite(values).any()]
        if not plots:
            return empty("no pixel of the grid could be mapped (missing covariates or forcing)")
        return ([empty(outside_note(result))] if result["outside_aoa"] is not None else []) + plots
