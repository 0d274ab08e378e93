"""Map figures for ``hybridlab bench``: a trained SOC hybrid mapped over a synthetic grid the size
of Europe at 1 km, written lazily to Zarr (``map_throughput``).

The grid: ``rows`` × ``columns`` pixels in EPSG:4326 over Europe, land inside an ellipse (about 4
million pixels at full size), every covariate and forcing column of ``lucas-synthetic`` (168
covariates, then NPP, temperature and soil mass). Each is a smooth random field passed through
the data's own quantiles, so every value is one the data hold. It is generated chunk by chunk by
Dask, so it never sits in memory. The map is made by ``hybridlab map`` in its own process, as a
user runs it. Reported: pixels per second (the cluster started), the peak resident memory of that
process and its Dask workers together, and the largest difference between the map and ``predict``
on the same pixels as a table.
"""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from core.datasets import load_data
from core.run.execute import execute

FULL, QUICK = (2100, 2500), (210, 250)


def _field(block_info, columns: int, seed: int, quantiles: np.ndarray, land):
    """One chunk of one variable: a smooth field mapped through the data's quantiles; NaN at sea."""
    (y0, y1), (x0, x1) = block_info[None]["array-location"]
    y, x = np.mgrid[y0:y1, x0:x1].astype("float32")
    rng = np.random.default_rng(seed)
    phases, frequencies = rng.uniform(0, 6.3, 3), rng.uniform(2, 9, (3, 2)) / columns
    smooth = sum(np.sin(f[0] * x * 6.3 + f[1] * y * 6.3 + p) for f, p in zip(frequencies, phases)) / 1.8
    noise = np.random.default_rng([seed, y0, x0]).normal(0, 0.25, smooth.shape)
    u = 0.5 * (1 + np.tanh((smooth + noise) * 0.9))
    values = np.interp(u, np.linspace(0, 1, len(quantiles)), quantiles).astype("float32")
    return np.where(land(y, x), values, np.float32(np.nan))


def write_grid(path: Path, shape: tuple[int, int], chunk: int = 256) -> tuple[list[str], int]:
    """The synthetic grid as Zarr; returns its variables and its number of land pixels."""
    import dask.array
    import rioxarray  # noqa: F401 - .rio
    import xarray as xr

    data = load_data("lucas-synthetic", n=None)
    names = list(data.predictors) + [data.forcing[f] for f in ("npp", "temp", "soil_mass")]
    names = [n for n in names if n not in ("lat", "lon")]  # taken from the pixel centres
    rows, columns = shape

    def land(y, x):
        return ((y - rows / 2) / (rows / 2)) ** 2 + ((x - columns / 2) / (columns / 2)) ** 2 < 1.0

    variables = {}
    for k, name in enumerate(names):
        quantiles = np.quantile(data.frame[name].dropna().to_numpy(), np.linspace(0, 1, 201))
        array = dask.array.map_blocks(_field, columns=columns, seed=k, quantiles=quantiles, land=land,
                                      chunks=((chunk,) * (rows // chunk) + ((rows % chunk,) if rows % chunk else ()),
                                              (chunk,) * (columns // chunk) + ((columns % chunk,) if columns % chunk else ())),
                                      dtype="float32")
        variables[name] = (("y", "x"), array)
    coords = {"y": 70 - (np.arange(rows) + 0.5) * 35 / rows, "x": -10 + (np.arange(columns) + 0.5) * 40 / columns}
    grid = xr.Dataset(variables, coords=coords).rio.write_crs("EPSG:4326")
    grid.to_zarr(path, mode="w")
    y, x = np.mgrid[0:rows, 0:columns]
    return names, int(land(y, x).sum())


class PeakMemory:
    """The largest resident memory of a process and its children (the Dask workers) together,
    sampled every 0.2 s while running."""

    def __init__(self, pid: int):
        import psutil

        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        import psutil

        while not self._stop.wait(0.2):
            total = 0
            try:
                members = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                continue
            for process in members:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _map_command(folder: Path, run: str, workers: int, chunk: int) -> tuple[dict, float]:
    """``hybridlab map`` of ``folder/run`` as a user runs it, in its own process: (its summary
    line's numbers, the peak resident memory of it and its workers in bytes)."""
    import re
    import subprocess
    import sys

    command = [sys.executable, "-m", "core", "map", "--run", str(folder / run), "--grid", str(folder / "grid.zarr"),
               "--out", str(folder / f"{run}.zarr"), "--workers", str(workers), "--chunk", str(chunk)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(process.pid) as memory:
        out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"hybridlab map failed: {err.strip().splitlines()[-1] if err.strip() else out}")
    mapped, pixels, seconds = re.search(r"(\d+) of (\d+) pixels mapped in ([0-9.]+) s", out).groups()
    return {"mapped": int(mapped), "pixels": int(pixels), "seconds": float(seconds)}, memory.peak


def _agreement(run_folder: Path, grid_path: Path, map_path: Path, sample: int = 2000) -> float:
    """The largest relative difference between the map and ``predict`` on ``sample`` mapped pixels."""
    import xarray as xr

    from core.run.loaded import load_run
    from core.datasets.grids import open_grid, plan_grid, window_frame

    run = load_run(run_folder)
    grid = open_grid(grid_path)
    needed = list(run.config["columns"]["predictors"]) + [run.config["columns"]["forcing"][f]
                                                         for f in run.config["model"]["forcing"]]
    plan = plan_grid(grid, grid_path, needed, True, False)
    mapped = xr.open_zarr(map_path)["soc_pred"]
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(8):  # pixels from 8 random windows of 64 x 64
        y0, x0 = rng.integers(0, grid.sizes["y"] - 64), rng.integers(0, grid.sizes["x"] - 64)
        frame = window_frame(grid, plan, slice(y0, y0 + 64), slice(x0, x0 + 64))
        values = mapped.isel(y=slice(y0, y0 + 64), x=slice(x0, x0 + 64)).to_numpy().ravel()
        ok = np.isfinite(values)
        if ok.any():
            expected = run.predict(frame[ok].reset_index(drop=True))["soc_pred"].to_numpy()
            worst = max(worst, float(np.max(np.abs(values[ok] - expected) / np.maximum(np.abs(expected), 1e-6))))
    return worst


def _train(folder: Path, quick: bool, applicability: bool) -> None:
    """The bench's SOC hybrid, with or without its area of applicability (same seed and data)."""
    plan = {"model": "soc", "roles": "five_neural", "data": {"name": "lucas-synthetic", "n": 2000 if quick else None},
            "train": {"epochs": 2 if quick else 5, "patience": 100}, "applicability": applicability}
    execute(plan, out=folder / ("run" if applicability else "run-no-aoa"))


def map_throughput(quick: bool = False, workers: int = 2, chunk: int = 256, log=print) -> dict:
    """Map a SOC hybrid (the report's network, five neural parameters) over the synthetic grid with
    ``hybridlab map`` in its own process, once with its area of applicability (the ``di`` and
    ``aoa`` bands) and once trained without one, so the AOA's share of the map's time and memory is
    measured; see the module docstring."""
    shape = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="hybridlab-map-bench-") as folder:
        folder = Path(folder)
        start = time.perf_counter()
        names, land = write_grid(folder / "grid.zarr", shape)
        grid_seconds = time.perf_counter() - start
        log(f"map bench: grid {shape[0]} x {shape[1]} ({land:,} land pixels, {len(names)} variables) written in "
            f"{grid_seconds:.0f} s")
        _train(folder, quick, applicability=True)
        _train(folder, quick, applicability=False)
        report, peak = _map_command(folder, "run", workers, chunk)
        plain, plain_peak = _map_command(folder, "run-no-aoa", workers, chunk)
        worst = _agreement(folder / "run", folder / "grid.zarr", folder / "run.zarr")
    result = {"grid": list(shape), "land_pixels": land, "covariates": len(names) - 3 + 2, "grid_write_seconds": grid_seconds,
              "map_seconds": report["seconds"], "map_pixels_per_second": report["mapped"] / report["seconds"],
              "mapped": report["mapped"], "nodata": report["pixels"] - report["mapped"], "workers": workers,
              "chunk": chunk, "peak_rss_mb": peak / 2 ** 20, "max_relative_difference_to_predict": worst,
              "map_seconds_without_aoa": plain["seconds"], "peak_rss_mb_without_aoa": plain_peak / 2 ** 20,
              "aoa_time_share": report["seconds"] / plain["seconds"] - 1}
    log(f"map bench: {result['map_pixels_per_second']:,.0f} pixels/s, peak RSS {result['peak_rss_mb']:.0f} MB, "
        f"map vs predict {worst:.1e}; without the AOA {plain['seconds']:.1f} s and {result['peak_rss_mb_without_aoa']:.0f} MB "
        f"(the AOA adds {100 * result['aoa_time_share']:.0f} % to the map's time)")
    return result


__all__ = ["map_throughput", "write_grid"]
