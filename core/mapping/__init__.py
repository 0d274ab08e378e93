"""Maps from a trained run and a covariate grid (``hybridlab map``): :func:`map_run`.

``grid`` opens GeoTIFF, NetCDF, Zarr and x/y tables lazily; ``output`` writes the map window by
window into Zarr and finishes it as GeoTIFF, NetCDF or Zarr; ``maps`` cuts the grid into windows
and maps them on the executor that runs sweeps.
"""
from .maps import MapOptions, map_run

__all__ = ["MapOptions", "map_run"]
