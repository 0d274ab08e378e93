"""Maps from a trained run and a covariate grid (``hybridlab map``): :func:`map_run`.

The grid is opened by its format in the data registry (:mod:`core.datasets.grids`); ``output`` writes the map window by
window into Zarr and finishes it as GeoTIFF, NetCDF or Zarr; ``maps`` cuts the grid into windows
and maps them on the executor that runs sweeps; ``preview`` maps a thinned grid in this process
(the dashboard's map).
"""
from core.datasets.grids import grid_kind
from core.mapping.maps import MapOptions, map_run
from core.mapping.preview import preview_map

__all__ = ["MapOptions", "grid_kind", "map_run", "preview_map"]
