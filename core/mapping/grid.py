"""A covariate grid, opened lazily: a GeoTIFF stack (one band per covariate, named by its band
description), a NetCDF or Zarr dataset (one variable per covariate on y/x), or a table with x/y
columns. :func:`open_grid` gives an ``xarray.Dataset`` on dims (y, x) whose windows are read only
when asked for (:func:`window_frame`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formatting import short_repr

#: suffix -> grid kind
GRID_KINDS = {".tif": "geotiff", ".tiff": "geotiff", ".nc": "netcdf", ".zarr": "zarr", ".csv": "table",
              ".parquet": "table"}
#: predictor names that are coordinates: taken from the grid's pixel centres in longitude/latitude
#: (EPSG:4326) when the grid has no variable of that name
LONGITUDE, LATITUDE = ("lon", "longitude", "th_long"), ("lat", "latitude", "th_lat")
POINTS_CRS = "EPSG:4326"


def grid_kind(path: Path) -> str:
    kind = GRID_KINDS.get(path.suffix.lower())
    if kind is None:
        raise DataError(f"{path}: unknown grid type {short_repr(path.suffix)}; use .tif, .nc, .zarr, .csv or .parquet")
    if not path.exists():
        raise DataError(f"{path}: no such grid")
    return kind


def open_grid(path: str | Path):
    """The grid as a lazy ``xarray.Dataset`` on (y, x), its CRS (or None) and nodata per variable."""
    import xarray as xr

    path = Path(path)
    kind = grid_kind(path)
    try:
        if kind == "geotiff":
            import rioxarray

            dataset = rioxarray.open_rasterio(path, band_as_variable=True, mask_and_scale=True, cache=False)
            names = {v: dataset[v].attrs.get("long_name") or v for v in dataset.data_vars}
            if len(set(names.values())) < len(names):
                raise DataError(f"{path}: band descriptions repeat or are missing; name each band by its covariate")
            dataset = dataset.rename(names)
        elif kind == "table":
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            if not {"x", "y"} <= set(frame.columns):
                raise DataError(f"{path}: a table grid needs columns x and y (pixel centres)")
            if frame.duplicated(["y", "x"]).any():
                raise DataError(f"{path}: some x/y pairs appear more than once")
            dataset = frame.set_index(["y", "x"]).to_xarray()
        else:
            import rioxarray  # noqa: F401 - registers .rio, which reads the CRS from CF grid_mapping

            dataset = xr.open_dataset(path, engine="zarr" if kind == "zarr" else "h5netcdf", chunks=None,
                                      mask_and_scale=True, decode_coords="all")
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file: one line
        raise DataError(f"{path}: cannot be read as a {kind} grid ({type(e).__name__}: {str(e)[:120]})") from None
    if not {"y", "x"} <= set(dataset.dims):
        raise DataError(f"{path}: the grid's dimensions are {', '.join(map(str, dataset.dims))}; it needs y and x")
    return dataset


@dataclass
class GridPlan:
    """What a run needs from a grid: the grid variable of every input column, the coordinate
    columns computed from pixel centres, and how to get longitude/latitude."""

    variables: dict[str, str]
    coordinates: dict[str, str]
    transformer: object | None


def plan_grid(dataset, path: Path, needed: list[str], had_coordinates: bool, reproject: bool) -> GridPlan:
    """Check that the grid holds every column a run needs (or can compute it) and that its CRS
    fits the points the run was trained on; one line naming what is wrong otherwise."""
    crs = dataset.rio.crs if hasattr(dataset, "rio") else None
    coordinates = {c: "lon" for c in needed if c in LONGITUDE and c not in dataset}
    coordinates.update({c: "lat" for c in needed if c in LATITUDE and c not in dataset})
    missing = [c for c in needed if c not in dataset and c not in coordinates]
    if missing:
        raise DataError(f"{path}: the grid lacks {', '.join(map(short_repr, missing))} that the run needs (its "
                        f"variables: {', '.join(map(str, list(dataset.data_vars)[:10]))})")
    transformer = None
    if had_coordinates or coordinates:
        if crs is None:
            raise DataError(f"{path}: the grid has no CRS, and the run's points had coordinates; write the CRS into "
                            f"the grid (e.g. rio.write_crs) first")
        from pyproj import CRS, Transformer

        if CRS.from_user_input(crs) != CRS.from_user_input(POINTS_CRS):
            if not reproject:
                raise DataError(f"{path}: the grid is in {crs}, the run's points in {POINTS_CRS} (longitude/latitude); "
                                f"give --reproject to compute the coordinates it needs in {POINTS_CRS}")
            transformer = Transformer.from_crs(crs, POINTS_CRS, always_xy=True)
    return GridPlan({c: c for c in needed if c not in coordinates}, coordinates, transformer)


def window_frame(dataset, grid: GridPlan, rows: slice, columns: slice) -> pd.DataFrame:
    """The pixels of one window as a table (row-major), one column per input the run needs."""
    window = dataset.isel(y=rows, x=columns)
    x, y = np.meshgrid(window["x"].to_numpy(), window["y"].to_numpy())
    # float32: what the grid holds and what the network reads (float64 would double a window's memory)
    frame = {name: window[variable].to_numpy().astype("float32").ravel() for name, variable in grid.variables.items()}
    if grid.coordinates:
        lon, lat = grid.transformer.transform(x.ravel(), y.ravel()) if grid.transformer else (x.ravel(), y.ravel())
        frame.update({name: lon if axis == "lon" else lat for name, axis in grid.coordinates.items()})
    return pd.DataFrame(frame)


__all__ = ["GRID_KINDS", "GridPlan", "grid_kind", "open_grid", "plan_grid", "window_frame"]
