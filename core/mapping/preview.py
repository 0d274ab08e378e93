"""A quick map of a run over a grid, in this process: every ``step``-th pixel so that at most
``max_pixels`` are predicted (the dashboard's map; ``hybridlab map`` makes the full one)."""
from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from core.datasets.grids import LATITUDE, LONGITUDE, open_grid, plan_grid, window_frame
from core.mapping.maps import mappable


@functools.lru_cache(maxsize=2)
def _grid(path: str):
    return open_grid(path)


def preview_map(run, grid_path: str | Path, max_pixels: int = 60_000) -> dict:
    """The run's predictions and neural parameters over a thinned grid, with its area of
    applicability where the run has one.

    Parameters
    ----------
    run : FittedRun
        A trained run (:class:`core.run.result.Run`, or one read back with ``load_run``).
    grid_path : str or Path
        A grid :func:`~core.datasets.grids.open_grid` reads.
    max_pixels : int
        At most this many pixels are predicted.

    Returns
    -------
    dict
        ``x``, ``y`` (the thinned pixel centres), ``step``, ``crs``, ``values``: name -> (ny, nx)
        array (NaN where a pixel cannot be mapped), for every ``<target>_pred`` and neural
        parameter; ``aoa``: (ny, nx) array, 1 inside the area of applicability, 0 outside, NaN
        where nothing is mapped (None for a run without one); ``outside_aoa``: the share of the
        mapped pixels outside it, ``mapped``: their number, ``threshold``: the run's DI threshold
        (both None without one).
    """
    config = run.config
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
    applicability = getattr(run, "applicability", None)
    aoa = np.full(len(frame), np.nan)
    if known.any():
        predicted = run.predict(frame[known].reset_index(drop=True))
        for name in names:
            values[name][known] = predicted[name].to_numpy()
        if applicability is not None:
            aoa[known] = predicted["aoa"].to_numpy(dtype=np.float64)
    mapped = int(known.sum())
    return {"x": thinned["x"].to_numpy(), "y": thinned["y"].to_numpy(), "step": step,
            "crs": str(dataset.rio.crs) if dataset.rio.crs is not None else None,
            "values": {name: v.reshape(shape) for name, v in values.items()},
            "aoa": aoa.reshape(shape) if applicability is not None else None, "mapped": mapped,
            "outside_aoa": float(np.mean(aoa[known] == 0)) if applicability is not None and mapped else None,
            "threshold": float(applicability.threshold) if applicability is not None else None}


__all__ = ["preview_map"]
