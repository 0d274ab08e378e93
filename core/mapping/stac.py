"""The STAC item beside every map (``<map>.stac.json``, :mod:`pystac`, STAC 1.1): where the map lies
(its footprint in longitude/latitude), when and from what run it was made, and one entry per band
of its asset (name, meaning, CF unit, data type, nodata). It uses no STAC extension, so that it
validates against the core schemas pystac ships, offline; the run's provenance sits in
``hybridlab:`` properties.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np

from core.io.documents import read_document

#: the property that marks an item as hybridlab's (what --overwrite may replace)
ITEM_TAG = "hybridlab:output"
#: the map's format -> the media type of its asset
MEDIA_TYPES = {"geotiff": "image/tiff; application=geotiff; profile=cloud-optimized",
               "netcdf": "application/netcdf", "zarr": "application/vnd+zarr"}


def item_path(out: Path) -> Path:
    """Where the STAC item of the map ``out`` goes: beside it, ``<name>.stac.json``."""
    return out.with_name(out.name + ".stac.json")


def owned_item(path: Path) -> bool:
    """Whether ``path`` is a STAC item that hybridlab wrote (its ``hybridlab:output`` property)."""
    try:
        return read_document(Path(path)).get("properties", {}).get(ITEM_TAG) == "map item"
    except Exception:  # noqa: BLE001 - anything that does not read as our item is not ours
        return False


def footprint(grid) -> tuple[list[float] | None, dict | None]:
    """(bbox, GeoJSON polygon) of the grid's outer pixel edges in longitude/latitude (EPSG:4326);
    (None, None) for a grid without a CRS."""
    crs = grid.rio.crs
    if crs is None:
        return None, None
    from rasterio.warp import transform_bounds

    west, south, east, north = (float(v) for v in transform_bounds(crs, "EPSG:4326", *grid.rio.bounds(),
                                                                   densify_pts=21))
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return [west, south, east, north], {"type": "Polygon", "coordinates": [ring]}


def _band(name: str, attrs: dict, nodata: float | None) -> dict:
    band = {"name": name, "description": str(attrs.get("long_name", name)), "unit": str(attrs.get("units", "1")),
            "data_type": "float32", "nodata": "nan" if nodata is None or not np.isfinite(nodata) else float(nodata)}
    if "interval_level" in attrs:
        band["hybridlab:interval_level"] = float(attrs["interval_level"])
    return band


def map_item(out: Path, kind: str, grid, variables: dict[str, dict], metadata: dict[str, str],
             nodata: float | None):
    """The STAC item of the map ``out``.

    Parameters
    ----------
    out : Path
        The map (its name is the asset's relative href and, without the suffix, the item's id).
    kind : str
        ``geotiff``, ``netcdf`` or ``zarr``.
    grid : xarray.Dataset
        The covariate grid (its CRS and bounds give the footprint).
    variables : dict
        Band name -> CF attributes (``long_name``, ``units``), in the map's order.
    metadata : dict
        The run's provenance (:func:`core.mapping.products.provenance`).
    nodata : float, optional
        The GeoTIFF's nodata value (None or NaN: NaN).

    Returns
    -------
    pystac.Item
    """
    import pystac

    bbox, geometry = footprint(grid)
    created = datetime.fromisoformat(metadata["date_created"])
    fields = {f"hybridlab:{key}": (json.loads(value) if key in ("roles", "data") else value)
              for key, value in metadata.items() if key != "date_created"}
    item = pystac.Item(id=out.stem, geometry=geometry, bbox=bbox, datetime=created,
                       properties={"created": metadata["date_created"], ITEM_TAG: "map item",
                                   "description": f"hybridlab map of run {metadata['run']} (model "
                                                  f"{metadata['model']}); datetime is when the map was made",
                                   "hybridlab:crs": str(grid.rio.crs) if grid.rio.crs is not None else "none",
                                   **fields})
    bands = [_band(name, attrs, None if kind != "geotiff" else nodata) for name, attrs in variables.items()]
    item.add_asset("data", pystac.Asset(href=f"./{out.name}", media_type=MEDIA_TYPES[kind], roles=["data"],
                                        title=f"{kind} map, {len(bands)} bands", extra_fields={"bands": bands}))
    return item


def item_text(item) -> str:
    """The item as JSON text, without a self link (the map and its item move together)."""
    return json.dumps(item.to_dict(include_self_link=False), indent=2)


__all__ = ["ITEM_TAG", "MEDIA_TYPES", "footprint", "item_path", "item_text", "map_item", "owned_item"]
