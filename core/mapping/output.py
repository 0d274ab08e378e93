"""The map being written: a Zarr store of float32 variables on the grid's (y, x), chunked like the
windows, so that every window is written by whichever worker mapped it (:func:`write_window`).
At the end it becomes the output the user asked for (:func:`finish`): kept as Zarr, or written
as NetCDF or a GeoTIFF stack (one band per variable, named by its description), chunk by chunk.
The grid's CRS, transform and nodata value go with it, and CF attributes name each variable.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import HybridlabError

#: suffix of the map -> format
MAP_FORMATS = {".tif": "geotiff", ".tiff": "geotiff", ".nc": "netcdf", ".zarr": "zarr"}
#: what marks a GeoTIFF or NetCDF map as hybridlab's (a dataset tag, a global attribute)
MAP_TAG, MAP_SOURCE = "HYBRIDLAB_OUTPUT", "hybridlab map"


def map_format(path: Path) -> str:
    kind = MAP_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise HybridlabError(f"{path}: unknown map format {path.suffix!r}; use .tif, .nc or .zarr")
    return kind


def create_store(store: Path, dataset, variables: dict[str, dict], chunk: int) -> None:
    """An empty Zarr map (NaN everywhere) with the grid's coordinates and CRS. variables: name ->
    CF attributes (``units``, ``long_name``)."""
    import dask.array
    import xarray as xr

    shape = (dataset.sizes["y"], dataset.sizes["x"])
    data = {name: (("y", "x"), dask.array.full(shape, np.nan, dtype="float32", chunks=(chunk, chunk)), attrs)
            for name, attrs in variables.items()}
    empty = xr.Dataset(data, coords={"y": dataset["y"], "x": dataset["x"]})
    crs = dataset.rio.crs if hasattr(dataset, "rio") else None
    if crs is not None:
        empty = empty.rio.write_crs(crs)
    empty.attrs.update(Conventions="CF-1.8", source="hybridlab map")
    empty.to_zarr(store, mode="w", compute=False, encoding={name: {"chunks": (chunk, chunk)} for name in variables})


def write_window(store: Path, values: dict[str, np.ndarray], rows: slice, columns: slice) -> None:
    """Write one window's arrays ((ny, nx) each) into the map (a worker's call; windows never overlap)."""
    import zarr

    group = zarr.open_group(str(store), mode="r+")
    for name, array in values.items():
        group[name][rows, columns] = array.astype("float32")


def owned_map(path: Path) -> bool:
    """Whether the file ``path`` is a GeoTIFF or NetCDF map that hybridlab wrote (its tag)."""
    try:
        if map_format(path) == "geotiff":
            import rasterio

            with rasterio.open(path) as raster:
                return raster.tags().get(MAP_TAG) == "map"
        import h5netcdf

        with h5netcdf.File(path, "r") as handle:
            return handle.attrs.get("source") == MAP_SOURCE
    except Exception:  # noqa: BLE001 - anything that cannot be read as our map is not ours
        return False


def finish(store: Path, out: Path, kind: str, names: list[str], grid, nodata: float | None) -> None:
    """Write the Zarr map as ``kind`` (geotiff or netcdf) into the file ``out``, chunk by chunk: the
    variables ``names`` in that order, with the CRS and transform of ``grid`` (the covariate
    dataset) and its ``nodata`` value in a GeoTIFF."""
    import xarray as xr
    import rioxarray  # noqa: F401 - .rio

    dataset = xr.open_zarr(store)[names]
    crs = grid.rio.crs
    dataset = dataset.rio.write_transform(grid.rio.transform())
    if crs is not None:
        dataset = dataset.rio.write_crs(crs)
    if kind == "netcdf":
        dataset.attrs["source"] = MAP_SOURCE
        dataset.to_netcdf(out, engine="h5netcdf")
        return
    stack = dataset.to_array("band").assign_coords(band=np.arange(1, len(names) + 1))
    fill = np.float32(nodata) if nodata is not None and np.isfinite(nodata) else np.float32(np.nan)
    stack = stack.fillna(fill).rio.write_nodata(fill, encoded=False)
    stack = stack.rio.write_transform(grid.rio.transform())
    if crs is not None:
        stack = stack.rio.write_crs(crs)
    stack.attrs["long_name"] = tuple(names)
    stack.rio.to_raster(out, driver="GTiff", tiled=True, windowed=True, compress="deflate", dtype="float32",
                        recalc_transform=False)
    import rasterio

    with rasterio.open(out, "r+") as raster:
        raster.update_tags(**{MAP_TAG: "map"})
        for band, name in enumerate(names, 1):
            raster.set_band_description(band, name)
            raster.update_tags(band, units=dataset[name].attrs.get("units", ""))


__all__ = ["MAP_FORMATS", "create_store", "finish", "map_format", "owned_map", "write_window"]
