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

from core.errors import DataError
from core.datasets.base import LATITUDE, LONGITUDE
from core.datasets.registry import DataSourceSpec
from core.formatting import short_repr

#: predictor names that are coordinates (core.datasets.LONGITUDE, LATITUDE): taken from the grid's
#: pixel centres in longitude/latitude (EPSG:4326) when the grid has no variable of that name
POINTS_CRS = "EPSG:4326"
#: the most pixels a grid may declare (``map --max-pixels``): checked before anything is allocated
MAX_PIXELS = 1_000_000_000
#: how far from evenly spaced pixel centres may be (relative to the spacing)
SPACING_TOLERANCE = 1e-6


def grid_source(path: str | Path):
    """The registered grid format (a ``DataSourceSpec`` of kind ``grid``) of ``path``; one line for an
    unknown suffix or a grid that does not exist."""
    from core.datasets.registry import matching_source, sources

    path = Path(path)
    spec = matching_source("grid", path)
    if spec is None:
        suffixes = ", ".join(suffix for s in sources("grid") for suffix in s.suffixes)
        raise DataError(f"{path}: unknown grid type {short_repr(path.suffix)}; use {suffixes}")
    if not path.exists():
        raise DataError(f"{path}: no such grid")
    return spec


def grid_kind(path: Path) -> str:
    """The grid format's name of ``path`` (``geotiff``, ``netcdf``, ``zarr``, ``table``)."""
    return grid_source(path).name.removesuffix("-grid")


def check_pixels(path: Path, ny: int, nx: int, max_pixels: int) -> None:
    """Refuse a grid that declares more than ``max_pixels`` pixels, before anything is allocated."""
    if ny * nx > max_pixels:
        raise DataError(f"{path}: the grid declares {ny:,} x {nx:,} = {ny * nx:,} pixels, more than --max-pixels "
                        f"{max_pixels:,}; cut the grid into tiles or give a larger --max-pixels")


def _check_transform(path: Path, max_pixels: int) -> None:
    """A GeoTIFF's size and its transform: north-up pixels only (no rotation or shear)."""
    import rasterio

    with rasterio.open(path) as raster:
        transform, ny, nx = raster.transform, raster.height, raster.width
    check_pixels(path, ny, nx, max_pixels)
    if transform.b != 0 or transform.d != 0:
        raise DataError(f"{path}: the grid's transform is rotated or sheared ({transform.b:g}, {transform.d:g} off "
                        f"the diagonal); warp it to a north-up grid first (gdalwarp)")
    if transform.a == 0 or transform.e == 0:
        raise DataError(f"{path}: the grid's pixel size is 0 in its transform; it cannot be georeferenced")


def _check_declared(path: Path, kind: str, max_pixels: int) -> None:
    """A NetCDF or Zarr grid's declared y and x sizes, read from its metadata before xarray loads
    any coordinate (a small store can declare 10^12 pixels)."""
    if kind == "netcdf":
        import h5netcdf

        with h5netcdf.File(path, "r") as handle:
            sizes = {name: dim.size for name, dim in handle.dimensions.items()}
    else:
        import zarr

        sizes = {}
        for _, array in zarr.open_group(str(path), mode="r").arrays():
            names = getattr(array.metadata, "dimension_names", None) or array.attrs.get("_ARRAY_DIMENSIONS") or ()
            sizes.update({name: size for name, size in zip(names, array.shape) if name in ("y", "x")})
    check_pixels(path, int(sizes.get("y", 1)), int(sizes.get("x", 1)), max_pixels)


def regular_axis(values: np.ndarray, path: Path, name: str) -> np.ndarray:
    """The sorted unique centres of axis ``name`` as an evenly spaced axis (gaps of whole pixels
    filled in), or a one-line DataError for centres that are not on a regular grid."""
    centres = np.unique(np.asarray(values, dtype=float))
    if not np.isfinite(centres).all():
        raise DataError(f"{path}: column {name} holds missing or infinite pixel centres")
    if len(centres) < 2:
        return centres
    steps = np.diff(centres)
    step = steps.min()
    multiples = steps / step
    if np.abs(multiples - np.round(multiples)).max() > SPACING_TOLERANCE * max(1.0, multiples.max()):
        raise DataError(f"{path}: the {name} centres are not evenly spaced (steps from {step:g} to {steps.max():g}); "
                        f"a table grid needs pixel centres on a regular grid: grid the points first")
    return centres[0] + step * np.arange(int(round((centres[-1] - centres[0]) / step)) + 1)


def _open_table(path: Path, max_pixels: int):
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    if not {"x", "y"} <= set(frame.columns):
        raise DataError(f"{path}: a table grid needs columns x and y (pixel centres)")
    if frame.duplicated(["y", "x"]).any():
        raise DataError(f"{path}: some x/y pairs appear more than once")
    ys, xs = (regular_axis(frame[c].to_numpy(), path, c) for c in ("y", "x"))
    check_pixels(path, len(ys), len(xs), max_pixels)
    dataset = frame.set_index(["y", "x"]).to_xarray()
    return dataset.reindex(y=ys, x=xs, method="nearest", tolerance=_tolerance(xs, ys))


def _tolerance(xs: np.ndarray, ys: np.ndarray) -> float:
    steps = [np.diff(a).min() for a in (xs, ys) if len(a) > 1]
    return float(min(steps)) * 1e-3 if steps else 0.0


def _check_coordinates(dataset, path: Path) -> None:
    """A NetCDF/Zarr grid's x and y: coordinate variables, evenly spaced, so that its transform is what
    the map is written with (a grid without them would be mapped on 0, 1, 2, ...)."""
    for name in ("x", "y"):
        if name not in dataset.coords:
            raise DataError(f"{path}: the grid has no {name} coordinate (pixel centres); write x and y into it")
        values = dataset[name].to_numpy().astype(float)
        if len(values) > 1:
            steps = np.diff(values)
            if not np.isfinite(values).all() or np.abs(steps - steps[0]).max() > SPACING_TOLERANCE * abs(steps[0]) \
                    or steps[0] == 0:
                raise DataError(f"{path}: the grid's {name} coordinate is not evenly spaced; a map needs a regular grid")


def _open_geotiff(path: Path, max_pixels: int):
    import rioxarray

    _check_transform(path, max_pixels)
    dataset = rioxarray.open_rasterio(path, band_as_variable=True, mask_and_scale=True, cache=False)
    names = {v: dataset[v].attrs.get("long_name") or v for v in dataset.data_vars}
    if len(set(names.values())) < len(names):
        raise DataError(f"{path}: band descriptions repeat or are missing; name each band by its covariate")
    return dataset.rename(names)


def _open_cf(path: Path, max_pixels: int):
    """A NetCDF or Zarr grid (CF conventions: x/y coordinates, the CRS from ``grid_mapping``)."""
    import rioxarray  # noqa: F401 - registers .rio, which reads the CRS from CF grid_mapping
    import xarray as xr

    kind = "zarr" if path.suffix.lower() == ".zarr" else "netcdf"
    _check_declared(path, kind, max_pixels)
    dataset = xr.open_dataset(path, engine="zarr" if kind == "zarr" else "h5netcdf", chunks=None,
                              mask_and_scale=True, decode_coords="all")
    if {"y", "x"} <= set(dataset.dims):
        check_pixels(path, dataset.sizes["y"], dataset.sizes["x"], max_pixels)
        _check_coordinates(dataset, path)
    return dataset


def open_grid(path: str | Path, max_pixels: int = MAX_PIXELS):
    """The grid as a lazy ``xarray.Dataset`` on (y, x), read by its registered format; refused in one
    line when it declares more than ``max_pixels`` pixels or is not a regular, north-up grid."""
    path = Path(path)
    spec = grid_source(path)
    try:
        dataset = spec.load(path, max_pixels)
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file: one line
        raise DataError(f"{path}: cannot be read as a {grid_kind(path)} grid ({type(e).__name__}: {str(e)[:120]})") from None
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
    if crs is not None:
        check_crs_range(dataset, path, crs)
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


def check_crs_range(dataset, path: Path, crs) -> None:
    """Refuse pixel centres outside the valid range of the grid's CRS: beyond ±180° / ±90° in a
    geographic CRS (a grid in metres labelled EPSG:4326), or where a projected CRS has no
    longitude/latitude."""
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    xs, ys = (dataset[c].to_numpy().astype(float) for c in ("x", "y"))
    if not (len(xs) and len(ys)):
        return
    corners_x, corners_y = [xs.min(), xs.max(), xs.min(), xs.max()], [ys.min(), ys.min(), ys.max(), ys.max()]
    if crs.is_geographic:
        if not (-180 <= xs.min() and xs.max() <= 360 and -90 <= ys.min() and ys.max() <= 90):
            raise DataError(f"{path}: the grid is labelled {crs.to_string()} (degrees), but its pixel centres span x "
                            f"{xs.min():g} to {xs.max():g} and y {ys.min():g} to {ys.max():g}, outside -180..360 and "
                            f"-90..90; label the grid with the CRS its coordinates are in")
        return
    lon, lat = Transformer.from_crs(crs, POINTS_CRS, always_xy=True).transform(corners_x, corners_y, errcheck=False)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise DataError(f"{path}: the grid's pixel centres (x {xs.min():g} to {xs.max():g}, y {ys.min():g} to "
                        f"{ys.max():g}) lie outside the valid range of its CRS {crs.to_string()}")


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


__all__ = ["grid_source", "MAX_PIXELS", "GridPlan", "check_crs_range", "check_pixels", "grid_kind", "open_grid",
           "plan_grid", "regular_axis", "window_frame"]


def _grid_format(name: str, suffixes: tuple[str, ...], load, description: str) -> DataSourceSpec:
    return DataSourceSpec(name=f"{name}-grid", kind="grid", description=description, load=load,
                          suffixes=suffixes, matches=lambda path: Path(path).suffix.lower() in suffixes)


#: the grid formats ``hybridlab map`` reads, one spec each (kind ``grid``)
DATA = (
    _grid_format("geotiff", (".tif", ".tiff"), _open_geotiff,
                 "A GeoTIFF stack, one band per covariate named by its band description."),
    _grid_format("netcdf", (".nc",), _open_cf, "A NetCDF file, one variable per covariate on y/x (CF conventions)."),
    _grid_format("zarr", (".zarr",), _open_cf, "A Zarr store, one variable per covariate on y/x (CF conventions)."),
    _grid_format("table", (".csv", ".parquet"), _open_table,
                 "A table of pixel centres (columns x and y) and one column per covariate."),
)
