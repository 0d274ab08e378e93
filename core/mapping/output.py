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
from core.io.outputs import partial_path

#: suffix of the map -> format
MAP_FORMATS = {".tif": "geotiff", ".tiff": "geotiff", ".nc": "netcdf", ".zarr": "zarr"}
#: what marks a GeoTIFF or NetCDF map as hybridlab's (a dataset tag, a global attribute)
MAP_TAG, MAP_SOURCE = "HYBRIDLAB_OUTPUT", "hybridlab map"


def map_format(path: Path) -> str:
    kind = MAP_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise HybridlabError(f"{path}: unknown map format {path.suffix!r}; use .tif, .nc or .zarr")
    return kind


def create_store(store: Path, dataset, variables: dict[str, dict], chunk: int, metadata: dict[str, str]) -> None:
    """An empty Zarr map (NaN everywhere) with the grid's coordinates and CRS. variables: name ->
    CF attributes (``units``, ``long_name``); metadata: global attributes (the run's provenance)."""
    import dask.array
    import xarray as xr

    shape = (dataset.sizes["y"], dataset.sizes["x"])
    data = {name: (("y", "x"), dask.array.full(shape, np.nan, dtype="float32", chunks=(chunk, chunk)), attrs)
            for name, attrs in variables.items()}
    empty = xr.Dataset(data, coords={"y": dataset["y"], "x": dataset["x"]})
    crs = dataset.rio.crs if hasattr(dataset, "rio") else None
    if crs is not None:
        empty = empty.rio.write_crs(crs)
    empty.attrs.update(metadata, Conventions="CF-1.8", source=MAP_SOURCE)
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


def finish(store: Path, out: Path, kind: str, names: list[str], grid, nodata: float | None,
           metadata: dict[str, str]) -> None:
    """Write the Zarr map as ``kind`` (geotiff or netcdf) into the file ``out``, chunk by chunk: the
    variables ``names`` in that order, with the CRS and transform of ``grid`` (the covariate
    dataset), its ``nodata`` value in a GeoTIFF, and ``metadata`` (the run's provenance,
    :func:`core.mapping.products.provenance`) as global attributes or dataset tags. A GeoTIFF is
    a Cloud-Optimised GeoTIFF (:func:`write_cog`)."""
    import xarray as xr
    import rioxarray  # noqa: F401 - .rio

    dataset = xr.open_zarr(store)[names]
    crs = grid.rio.crs
    dataset = dataset.rio.write_transform(grid.rio.transform())
    if crs is not None:
        dataset = dataset.rio.write_crs(crs)
    if kind == "netcdf":
        dataset.attrs.update(metadata, source=MAP_SOURCE)
        dataset.to_netcdf(out, engine="h5netcdf")
        return
    stack = dataset.to_array("band").assign_coords(band=np.arange(1, len(names) + 1))
    fill = np.float32(nodata) if nodata is not None and np.isfinite(nodata) else np.float32(np.nan)
    stack = stack.fillna(fill).rio.write_nodata(fill, encoded=False)
    stack = stack.rio.write_transform(grid.rio.transform())
    if crs is not None:
        stack = stack.rio.write_crs(crs)
    stack.attrs = {"long_name": tuple(names)}
    tiled = partial_path(out, "tiled")
    try:
        stack.rio.to_raster(tiled, driver="GTiff", tiled=True, windowed=True, compress="deflate", dtype="float32",
                            recalc_transform=False)
        _tag(tiled, names, {name: dataset[name].attrs for name in names}, metadata)
        write_cog(tiled, out, float(fill))
    finally:
        tiled.unlink(missing_ok=True)


def _tag(path: Path, names: list[str], attributes: dict[str, dict], metadata: dict[str, str]) -> None:
    """hybridlab's tag and the provenance on the GeoTIFF; per band its name (the description,
    which rioxarray reads as ``long_name``) and as band tags its CF ``units``, its ``meaning`` (the
    NetCDF map's ``long_name``) and, for a bound, ``interval_level``."""
    import rasterio

    with rasterio.open(path, "r+") as raster:
        raster.update_tags(**{MAP_TAG: "map"}, **metadata)
        for band, name in enumerate(names, 1):
            attrs = attributes[name]
            raster.set_band_description(band, name)
            tags = {"meaning" if key == "long_name" else key: str(value) for key, value in attrs.items()}
            raster.update_tags(band, **tags)


def write_cog(tiled: Path, out: Path, nodata: float) -> None:
    """A tiled GeoTIFF as a Cloud-Optimised GeoTIFF (``rio_cogeo``: 512-pixel DEFLATE tiles,
    overviews by nearest neighbour, so that the ``aoa`` band stays 0 or 1), its dataset and band
    tags forwarded, ``nodata`` (NaN or the grid's value) declared; the intermediate goes to a
    temporary file, not memory."""
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    profile = {**cog_profiles.get("deflate"), "predictor": 2}
    cog_translate(tiled, out, profile, nodata=nodata, in_memory=False, quiet=True, forward_band_tags=True,
                  overview_resampling="nearest")


__all__ = ["MAP_FORMATS", "create_store", "finish", "map_format", "owned_map", "write_cog", "write_window"]
