"""``hybridlab map``: a trained run over a covariate grid (GeoTIFF, NetCDF, Zarr or an x/y table)."""
from __future__ import annotations

import argparse
import sys

from core.cli.arguments import add_executor_arguments
from core.errors import HybridlabError


def add_command(sub) -> None:
    p = sub.add_parser("map", help="map a trained run over a covariate grid (GeoTIFF, NetCDF, Zarr or x/y table)")
    p.add_argument("--run", required=True, help="run directory written by 'hybridlab train'")
    p.add_argument("--grid", required=True,
                   help="covariates: a GeoTIFF stack (bands named by their descriptions), .nc, .zarr, or a table with x/y")
    p.add_argument("--out", required=True, help="the map: .tif (one band per variable), .nc or .zarr")
    p.add_argument("--interval", type=float, default=None, metavar="LEVEL",
                   help="also map each target's calibrated LEVEL interval (<target>_lower, <target>_upper)")
    p.add_argument("--chunk", type=int, default=256, help="window side in pixels; memory grows with its square "
                                                         "(default 256)")
    p.add_argument("--reproject", action="store_true",
                   help="a grid in another CRS than the run's longitude/latitude points: compute them per pixel")
    p.add_argument("--overwrite", action="store_true", help="replace an existing map that hybridlab wrote")
    p.add_argument("--max-pixels", type=int, default=1_000_000_000,
                   help="refuse a grid that declares more pixels than this (default 1,000,000,000)")
    p.add_argument("--mask-outside-aoa", action="store_true",
                   help="nodata in predictions, intervals and parameters where a pixel lies outside the run's area "
                        "of applicability (the di and aoa bands are kept)")
    add_executor_arguments(p)
    p.set_defaults(func=cmd_map)


def cmd_map(a: argparse.Namespace) -> int:
    from core.mapping import MapOptions, map_run
    from core.io.signals import Interrupted

    if a.chunk < 16 or a.chunk > 4096:
        raise HybridlabError(f"--chunk must be between 16 and 4096 pixels, got {a.chunk}")
    if a.max_pixels < 1:
        raise HybridlabError(f"--max-pixels must be at least 1, got {a.max_pixels}")
    if a.interval is not None:
        from core.uncertainty.calibration import check_level

        check_level(a.interval)
    options = MapOptions(interval=a.interval, chunk=a.chunk, workers=a.workers, scheduler=a.scheduler,
                         reproject=a.reproject, overwrite=a.overwrite, max_pixels=a.max_pixels,
                         mask_outside_aoa=a.mask_outside_aoa)
    try:
        report = map_run(a.run, a.grid, a.out, options, log=lambda m: print(m, file=sys.stderr))
    except Interrupted as stop:
        print(f"hybridlab map: stopped by {stop}; nothing was written to {a.out} (an earlier map there is kept)",
              file=sys.stderr)
        return stop.exit_code
    left = {k: report.get(k, 0) for k in ("no_data", "missing_covariate", "forcing_out_of_range")}
    print(f"{report.get('mapped', 0)} of {report.get('pixels', 0)} pixels mapped in {report['seconds']:.1f} s "
          f"({report['pixels_per_second']:.0f} pixels/s); nodata: {left['no_data']} without data in the grid, "
          f"{left['missing_covariate']} with a missing covariate, {left['forcing_out_of_range']} with forcing the "
          f"model does not accept")
    _print_distances(report)
    print(f"map written to {a.out}: {', '.join(report['variables'])}")
    print(f"STAC item written to {report['stac']}")
    return 0


def _print_distances(report: dict) -> None:
    """The median distance of the mapped pixels and of the validation sites to the nearest training site."""
    pixels, validation = report.get("median_pixel_nearest_train_km"), report.get("median_val_nearest_train_km")
    if pixels is None:
        if report.get("pixel_distance_note"):
            print(f"distance of the pixels to the training sites not measured: {report['pixel_distance_note']}")
        return
    beside = f" (validation sites: {validation:.0f} km)" if validation is not None else ""
    print(f"median distance from a mapped pixel to the nearest training site: {pixels:.0f} km{beside}")
