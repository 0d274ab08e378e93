"""A quick map of a run over a grid, in this process: every ``step``-th pixel so that at most
``max_pixels`` are predicted (the dashboard's map; ``hybridlab map`` makes the full one)."""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from core.run.prediction import predict_table
from core.datasets.grids import LATITUDE, LONGITUDE, open_grid, plan_grid, window_frame
from core.mapping.maps import mappable


@functools.lru_cache(maxsize=2)
def _grid(path: str):
    return open_grid(path)


def preview_map(model, config: dict, grid_path: str | Path, max_pixels: int = 60_000) -> dict:
    """The run's predictions and neural parameters over a thinned grid.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model (a run's ``model``).
    config : dict
        The run's config.json (``core.run_config(run)``): columns and model.
    grid_path : str or Path
        A grid :func:`~core.datasets.grids.open_grid` reads.
    max_pixels : int
        At most this many pixels are predicted.

    Returns
    -------
    dict
        ``x``, ``y`` (the thinned pixel centres), ``step``, ``crs`` and ``values``: name -> (ny, nx)
        array (NaN where a pixel cannot be mapped), for every ``<target>_pred`` and neural parameter.
    """
    dataset = _grid(str(grid_path))
    needed = list(config["columns"]["predictors"]) + [config["columns"]["forcing"][f] for f in config["model"]["forcing"]]
    had_coordinates = bool(config.get("coordinates")) or any(c in LONGITUDE + LATITUDE for c in needed)
    grid = plan_grid(dataset, Path(grid_path), needed, had_coordinates, reproject=True)
    step = max(1, math.ceil(math.sqrt(dataset.sizes["y"] * dataset.sizes["x"] / max_pixels)))
    thinned = dataset.isel(y=slice(None, None, step), x=slice(None, None, step))
    frame = window_frame(thinned, grid, slice(None), slice(None))
    known, _ = mappable(frame, config, list(grid.variables))
    shape = (thinned.sizes["y"], thinned.sizes["x"])
    neural = [p["name"] for p in config["model"]["parameters"] if p["role"] == "neural"]
    names = [f"{t}_pred" for t in config["model"]["targets"]] + neural
    values = {name: np.full(len(frame), np.nan) for name in names}
    if known.any():
        predicted = predict_table(model, config, frame[known].reset_index(drop=True))
        for name in names:
            values[name][known] = predicted[name].to_numpy()
    return {"x": thinned["x"].to_numpy(), "y": thinned["y"].to_numpy(), "step": step,
            "crs": str(dataset.rio.crs) if dataset.rio.crs is not None else None,
            "values": {name: v.reshape(shape) for name, v in values.items()}}


__all__ = ["preview_map"]
