"""A trained run applied to a covariate grid: :func:`map_run` (``hybridlab map``).

The grid is cut into windows of ``chunk`` × ``chunk`` pixels. Each window is one call on the
executor (:class:`core.compute.executor.Executor`, the one that runs sweeps: an embedded LocalCluster or
an external scheduler), which reads only that window, predicts its pixels with the run's own
``predict`` (so a map equals ``predict`` on the same pixels as a table) and writes its part of the
map. Memory is bounded by the window, not the map. A pixel with a missing covariate, or whose
forcing the model does not accept (a negative NPP), is nodata and counted; none is filled in.
"""
from __future__ import annotations

import functools
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.run.loaded import load_run
from core.io.outputs import check_output, claim_output, partial_path, replacing
from core.io.signals import raise_on_signals
from core.datasets.grids import LATITUDE, LONGITUDE, MAX_PIXELS, open_grid, plan_grid, window_frame
from core.mapping.output import create_store, finish, map_format, owned_map, write_window
from core.mapping.applicability import AOA_BANDS, check_mask, mask_outside
from core.mapping.distance import pixel_distance_report, run_training_sites, window_counts
from core.mapping.products import band_meaning, cf_units, provenance, unit_note
from core.mapping.stac import item_path, item_text, map_item, owned_item
from core.spatial.geometry import DISTANCE_BINS


@dataclass
class MapOptions:
    """interval: the level of the bounds written for a calibrated run (None: none); chunk: window
    side in pixels; workers / scheduler: the executor; reproject: compute longitude/latitude from
    a grid in another CRS; overwrite: replace an existing map that hybridlab wrote; max_pixels: the
    most pixels a grid may declare; mask_outside_aoa: nodata in every band but ``di`` and ``aoa``
    where a pixel lies outside the run's area of applicability."""

    interval: float | None = None
    chunk: int = 256
    workers: int | None = None
    scheduler: str | None = None
    reproject: bool = False
    overwrite: bool = False
    max_pixels: int = MAX_PIXELS
    mask_outside_aoa: bool = False


def _inputs(config: dict) -> list[str]:
    """The columns a run's predict needs: predictors, then the forcing columns."""
    forcing = config["columns"]["forcing"]
    return list(config["columns"]["predictors"]) + [forcing[f] for f in config["model"]["forcing"]]


def _had_coordinates(config: dict) -> bool:
    return bool(config.get("coordinates")) or any(c in LONGITUDE + LATITUDE for c in _inputs(config))


@functools.lru_cache(maxsize=4)
def _opened(run_path: str, grid_path: str, reproject: bool, max_pixels: int = MAX_PIXELS):
    """(run, grid dataset, grid plan), once per worker process."""
    run = load_run(run_path)
    dataset = open_grid(grid_path, max_pixels)
    return run, dataset, plan_grid(dataset, Path(grid_path), _inputs(run.config), _had_coordinates(run.config),
                                   reproject)


def mappable(frame: pd.DataFrame, config: dict, read: list[str]) -> tuple[np.ndarray, dict]:
    """Pixels that can be mapped, and the count of each reason the others cannot (``read``: the
    columns read from the grid; a pixel where all of them are missing has no data)."""
    from core.models import get_model

    known = np.isfinite(frame[read].to_numpy())
    empty, complete = ~known.any(1), known.all(1)
    spec = get_model(config["model"]["name"])
    accepted = np.ones(len(frame), dtype=bool)
    for name in config["model"]["forcing"]:
        values = frame[config["columns"]["forcing"][name]].to_numpy()
        if name in spec.positive:
            accepted &= ~(values <= 0)
        elif name in spec.nonnegative:
            accepted &= ~(values < 0)
    valid = complete & accepted
    return valid, {"no_data": int(empty.sum()), "missing_covariate": int((~complete & ~empty).sum()),
                   "forcing_out_of_range": int((complete & ~accepted).sum())}


def map_window(task: dict) -> dict:
    """One window (a worker's call): read, predict, write; returns its pixel counts (or, when the
    window cannot be written, the error as plain data: a full disk is one line, not a traceback)."""
    run, dataset, grid = _opened(task["run"], task["grid"], task["reproject"], task["max_pixels"])
    rows, columns = slice(*task["rows"]), slice(*task["columns"])
    frame = window_frame(dataset, grid, rows, columns)
    valid, counts = mappable(frame, run.config, list(grid.variables))
    shape = (rows.stop - rows.start, columns.stop - columns.start)
    values = {name: np.full(len(frame), np.nan) for name in task["variables"]}
    if valid.any():
        predicted = run.predict(frame[valid].reset_index(drop=True), interval=task["interval"])
        if task.get("mask_outside_aoa"):
            predicted = mask_outside(predicted)
        for name in task["variables"]:
            values[name][valid] = predicted[name].to_numpy()
    try:
        write_window(Path(task["store"]), {name: v.reshape(shape) for name, v in values.items()}, rows, columns)
    except OSError as error:
        return {"error": error.strerror or str(error), "errno": error.errno, "filename": error.filename or task["store"]}
    distances = {}
    if task.get("sites") is not None and valid.any():  # the pixels' distance to training, as a sparse 1 km histogram
        histogram = window_counts(dataset.isel(y=rows, x=columns), grid.transformer, valid, task["sites"])
        bins = np.flatnonzero(histogram)
        distances = {"distance_bins": bins.tolist(), "distance_counts": histogram[bins].tolist()}
    return {"pixels": len(frame), "mapped": int(valid.sum()), **counts, **distances}


def map_variables(run, interval: float | None) -> dict[str, dict]:
    """What the map holds and the CF attributes of each: every target's prediction (with its
    bounds and the members' sd where the run has them), every neural parameter (and its sd) and
    every derived quantity; global and fixed parameters, one value everywhere, are left out."""
    from core.models import get_model

    config = run.config
    parameters = {p["name"]: p for p in config["model"]["parameters"]}
    target_units = get_model(config["model"]["name"]).units
    row = pd.DataFrame({c: [1.0] for c in _inputs(config)})
    keep = {}
    for name in run.predict(row, interval=interval).columns:
        base = name.rsplit("_", 1)[0] if name.endswith(("_pred", "_lower", "_upper", "_sd")) else name
        if base in parameters and parameters[base]["role"] != "neural":
            continue
        keep[name] = AOA_BANDS.get(name) or _band_attributes(name, base, parameters.get(base), target_units, interval)
    return keep


def _band_attributes(name: str, base: str, parameter: dict | None, target_units: dict, interval: float | None) -> dict:
    """CF ``units`` and ``long_name`` of one band (and ``interval_level`` for a bound)."""
    unit = parameter["unit"] if parameter else target_units.get(base, "")
    description = parameter.get("description", "") if parameter else ""
    note = unit_note(unit)
    meaning = f"{description} ({note})" if description and note else description or note
    attrs = {"long_name": band_meaning(name, base, meaning, interval),
             "units": cf_units(unit)}
    if interval is not None and name.endswith(("_lower", "_upper")):
        attrs["interval_level"] = interval
    return attrs


def _windows(dataset, chunk: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    ny, nx = dataset.sizes["y"], dataset.sizes["x"]
    return [((y, min(y + chunk, ny)), (x, min(x + chunk, nx))) for y in range(0, ny, chunk) for x in range(0, nx, chunk)]


def _nodata(dataset) -> float | None:
    for variable in dataset.data_vars:
        value = dataset[variable].encoding.get("_FillValue", dataset[variable].attrs.get("_FillValue"))
        if value is not None:
            return float(value)
    return None


def check_map_out(out: Path, overwrite: bool, inputs: list[Path] = ()) -> Path:
    """A new output, or (with ``overwrite``) a map hybridlab wrote: a Zarr store whose manifest
    lists everything in it, a GeoTIFF or NetCDF file with hybridlab's tag; never an input."""
    kind = map_format(out)
    return check_output(out, overwrite=overwrite, inputs=inputs, folder=kind == "zarr",
                        owned=None if kind == "zarr" else owned_map)


def _run_inputs(run_path: Path) -> list[Path]:
    """The files of the run folder a map reads (a map may go into the run's folder, not over them)."""
    from core.run.integrity import CHECKED, CHECKED_IF_PRESENT, MARKER

    return [run_path / name for name in (*CHECKED, *CHECKED_IF_PRESENT, MARKER)]


def _map_windows(store: Path, run, dataset, variables: dict, grid_path: Path, options: "MapOptions", metadata: dict,
                 log) -> tuple:
    """Create the Zarr store and map every window into it on the executor: (totals, seconds)."""
    from core.compute.executor import Executor

    create_store(store, dataset, variables, options.chunk, metadata)
    sites, note = run_training_sites(run)
    tasks = [{"run": str(run.path), "grid": str(grid_path), "store": str(store), "rows": rows, "columns": columns,
              "interval": options.interval, "reproject": options.reproject, "variables": list(variables),
              "max_pixels": options.max_pixels, "mask_outside_aoa": options.mask_outside_aoa, "sites": sites}
             for rows, columns in _windows(dataset, options.chunk)]
    totals: dict = {}
    histogram = np.zeros(DISTANCE_BINS, dtype=np.int64) if sites is not None else None
    with Executor(options.workers, scheduler=options.scheduler, warm=("torch", "xarray", "zarr")) as executor:
        log(f"mapping {dataset.sizes['y']} x {dataset.sizes['x']} pixels in {len(tasks)} windows on "
            f"{executor.worker_count()} worker(s)")
        start = time.perf_counter()  # the cluster is up: the clock times the map alone
        for result in executor.map(map_window, tasks, name=lambda task: "map-window"):
            if "error" in result:  # a worker that could not write (a full disk): one line, no worker traceback
                raise OSError(result["errno"], result["error"], result["filename"])
            if "distance_bins" in result:
                histogram[result.pop("distance_bins")] += result.pop("distance_counts")
            for key, value in result.items():
                totals[key] = totals.get(key, 0) + value
    return {**totals, **pixel_distance_report(histogram, note, run)}, time.perf_counter() - start


def map_run(run_path: str | Path, grid_path: str | Path, out: str | Path, options: MapOptions | None = None,
            log=print) -> dict:
    """Map a run over a grid into ``out`` (a Cloud-Optimised GeoTIFF, NetCDF or Zarr by its
    suffix) with its STAC item beside it (``<out>.stac.json``), written through
    :mod:`core.io.outputs`: into temporary siblings, renamed into place once complete.

    Returns
    -------
    dict
        Pixels in the grid, mapped, and left as nodata by reason; seconds and pixels per second;
        ``stac``: the item's path.
    """
    from core.compute.executor import check_processes

    options = options or MapOptions()
    check_processes(options.workers, 1)  # before anything is written
    run_path, grid_path = Path(run_path).absolute(), Path(grid_path).absolute()
    inputs = [grid_path, *_run_inputs(run_path)]
    out = check_map_out(Path(out), options.overwrite, inputs)
    item = check_output(item_path(out), overwrite=options.overwrite, inputs=inputs, owned=owned_item,
                        flag="--out (its STAC item)")
    with claim_output(out), raise_on_signals():
        run, dataset, _ = _opened(str(run_path.resolve()), str(grid_path.resolve()), options.reproject,
                                  options.max_pixels)
        variables = map_variables(run, options.interval)
        check_mask(run, options.mask_outside_aoa)
        metadata = provenance(run, options.interval, options.mask_outside_aoa)
        with replacing(item) as item_temp:
            totals, seconds = _write_map(out, run, dataset, variables, grid_path.resolve(), options, metadata, log,
                                         lambda: item_temp.write_text(item_text(map_item(
                                             out, map_format(out), dataset, variables, metadata, _nodata(dataset)))))
    return {**totals, "variables": list(variables), "seconds": seconds, "stac": str(item),
            "pixels_per_second": totals.get("pixels", 0) / seconds if seconds else 0.0}


def _write_map(out: Path, run, dataset, variables: dict, grid_path: Path, options: MapOptions, metadata: dict,
               log, write_item) -> tuple:
    """Map every window into a Zarr store and make it the map ``out`` (a Zarr store kept as it
    is, or written as GeoTIFF or NetCDF); ``write_item()`` writes the STAC item's temporary file
    just before the map is renamed into place. Returns (totals, seconds)."""
    kind = map_format(out)
    if kind == "zarr":
        with replacing(out, folder=True) as store:
            result = _map_windows(store, run, dataset, variables, grid_path, options, metadata, log)
            write_item()
        return result
    store = out.parent / (partial_path(out, "windows").name + ".zarr")
    try:
        result = _map_windows(store, run, dataset, variables, grid_path, options, metadata, log)
        with replacing(out) as temp:
            finish(store, temp, kind, list(variables), dataset, _nodata(dataset), metadata)
            write_item()
    finally:
        shutil.rmtree(store, ignore_errors=True)
    return result


__all__ = ["MapOptions", "check_map_out", "map_run", "map_variables", "map_window", "mappable"]
