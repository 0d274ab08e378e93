"""``hybridlab map``: a trained run over real GeoTIFF, NetCDF and Zarr grids written by the tests,
on the Dask executor; the map equals ``predict`` on the same pixels."""
import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.run.execute import execute
from core.run.loaded import load_run
from core.mapping import MapOptions, map_run

pytestmark = pytest.mark.slow

COVARIATES = ["clay", "ph", "map", "elev", "lat", "lon"]
FORCING = ["npp", "temp", "soil_mass"]
NY, NX = 24, 30


@pytest.fixture(scope="module")
def run_and_grid(tmp_path_factory):
    """A three-member five_neural ensemble with intervals, and a 24 x 30 grid (EPSG:4326) whose
    pixels are sites of the data: a few without data, one with a missing covariate, one with a
    negative NPP."""
    import rasterio
    from rasterio.transform import from_origin

    folder = tmp_path_factory.mktemp("maps")
    run = execute({"model": "soc", "roles": "five_neural", "data": {"name": "lucas-synthetic", "n": 2000,
                                                                      "predictors": COVARIATES},
                   "split": {"calibration": 0.15}, "network": {"hidden": [16, 8]},
                   "train": {"epochs": 4, "patience": 2, "members": 3}}, out=folder / "run")
    frame = run.data.frame.iloc[:NY * NX].reset_index(drop=True)
    lon = 5 + 0.1 * np.arange(NX) + 0.05
    lat = 55 - 0.1 * np.arange(NY) - 0.05
    frame["lon"], frame["lat"] = np.tile(lon, NY), np.repeat(lat, NX)  # the pixel centres are the coordinates
    bands = COVARIATES[:-2] + FORCING
    stack = np.stack([frame[b].to_numpy().reshape(NY, NX) for b in bands]).astype("float32")
    stack[:, 0, :3] = -9999  # no data at three pixels
    stack[1, 1, 1] = -9999  # one covariate missing
    stack[bands.index("npp"), 2, 2] = -5.0  # NPP the model does not accept
    path = folder / "grid.tif"
    with rasterio.open(path, "w", driver="GTiff", height=NY, width=NX, count=len(bands), dtype="float32",
                       crs="EPSG:4326", transform=from_origin(5, 55, 0.1, 0.1), nodata=-9999) as raster:
        raster.write(stack)
        for i, name in enumerate(bands, 1):
            raster.set_band_description(i, name)
    return run, frame, path, folder


def test_a_geotiff_map_equals_predict_on_the_same_pixels(run_and_grid, tmp_path):
    import rioxarray

    run, frame, grid, folder = run_and_grid
    report = map_run(folder / "run", grid, tmp_path / "map.tif", MapOptions(interval=0.9, chunk=16, workers=2))
    assert report["pixels"] == NY * NX and report["no_data"] == 3 and report["missing_covariate"] == 1
    assert report["forcing_out_of_range"] == 1 and report["mapped"] == NY * NX - 5
    mapped = rioxarray.open_rasterio(tmp_path / "map.tif", band_as_variable=True, mask_and_scale=True)
    names = {v: mapped[v].attrs["long_name"] for v in mapped.data_vars}
    mapped = mapped.rename(names)
    assert str(mapped.rio.crs) == "EPSG:4326" and mapped.rio.transform() == rioxarray.open_rasterio(grid).rio.transform()
    for name in ("soc_pred", "soc_lower", "soc_upper", "soc_sd", "q_max", "q_max_sd"):
        assert name in mapped
    assert "k_b" not in mapped  # a global parameter is one value everywhere: not a map
    expected = load_run(folder / "run").predict(frame, interval=0.9)
    grid_values = mapped["soc_pred"].to_numpy().ravel()
    ok = np.isfinite(grid_values)
    assert ok.sum() == NY * NX - 5
    assert np.isnan(grid_values[[0, 1, 2, 31, 62]]).all()  # the five nodata pixels stay nodata
    for name in ("soc_pred", "soc_upper", "q_max"):
        np.testing.assert_allclose(mapped[name].to_numpy().ravel()[ok], expected[name].to_numpy()[ok], rtol=1e-5,
                                   atol=1e-5)
    # the mapped pixels' median distance to the nearest training site, against brute force (1 km bins)
    from core.spatial.geometry import nearest_distance_km

    split = run.predictions["split"].to_numpy()
    sites = run.data.frame.loc[split == "train"].groupby(run.data.id)[["lon", "lat"]].mean().to_numpy()
    pixels = frame[["lon", "lat"]].to_numpy()[ok]
    brute = np.median(nearest_distance_km(pixels, sites))
    assert abs(report["median_pixel_nearest_train_km"] - brute) <= 1.0, (report["median_pixel_nearest_train_km"], brute)
    assert report["median_val_nearest_train_km"] == run.metrics["split_geometry"]["median_nearest_train_km"]


def test_netcdf_and_zarr_grids_and_maps(run_and_grid, tmp_path):
    import rioxarray
    import xarray as xr

    run, frame, grid, folder = run_and_grid
    dataset = rioxarray.open_rasterio(grid, band_as_variable=True, mask_and_scale=True)
    dataset = dataset.rename({v: dataset[v].attrs["long_name"] for v in dataset.data_vars})
    dataset.to_zarr(tmp_path / "grid.zarr")
    dataset.to_netcdf(tmp_path / "grid.nc", engine="h5netcdf")
    map_run(folder / "run", tmp_path / "grid.zarr", tmp_path / "map.nc", MapOptions(chunk=20, workers=1))
    map_run(folder / "run", tmp_path / "grid.nc", tmp_path / "map.zarr", MapOptions(chunk=20, workers=1))
    from_nc, from_zarr = xr.open_dataset(tmp_path / "map.nc"), xr.open_zarr(tmp_path / "map.zarr")
    np.testing.assert_allclose(from_nc["soc_pred"].to_numpy(), from_zarr["soc_pred"].to_numpy(), rtol=1e-6)
    assert from_nc["soc_pred"].attrs["units"] and "soc_lower" not in from_nc  # no --interval: no bounds


def test_bad_grids_and_outputs_are_one_line_and_write_nothing(run_and_grid, tmp_path, capsys):
    import rioxarray

    run, frame, grid, folder = run_and_grid
    dataset = rioxarray.open_rasterio(grid, band_as_variable=True, mask_and_scale=True)
    dataset = dataset.rename({v: dataset[v].attrs["long_name"] for v in dataset.data_vars})
    dataset.drop_vars("spatial_ref").drop_vars("clay").to_netcdf(tmp_path / "no_clay.nc", engine="h5netcdf")
    dataset.drop_vars("spatial_ref").to_netcdf(tmp_path / "no_crs.nc", engine="h5netcdf")
    dataset.rio.reproject("EPSG:3035").to_netcdf(tmp_path / "laea.nc", engine="h5netcdf")
    base = ["map", "--run", str(folder / "run"), "--workers", "1"]
    cases = [(tmp_path / "no_clay.nc", "lacks 'clay'"), (tmp_path / "no_crs.nc", "has no CRS"),
             (tmp_path / "laea.nc", "give --reproject")]
    for path, message in cases:
        assert main(base + ["--grid", str(path), "--out", str(tmp_path / "m.tif")]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "m.tif").exists()
    (tmp_path / "taken.tif").write_bytes(b"someone's file")
    assert main(base + ["--grid", str(grid), "--out", str(tmp_path / "taken.tif")]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "taken.tif").read_bytes() == b"someone's file"
    assert main(base + ["--grid", str(grid), "--out", str(tmp_path / "m.png")]) == 2
    dataset.to_zarr(tmp_path / "grid.zarr")
    assert main(base + ["--grid", str(tmp_path / "grid.zarr"), "--out", str(tmp_path / "grid.zarr"), "--overwrite"]) == 2
    assert "being read" in capsys.readouterr().err and (tmp_path / "grid.zarr").is_dir()
    assert main(base + ["--grid", str(tmp_path / "laea.nc"), "--reproject", "--out", str(tmp_path / "m.nc")]) == 0
    import xarray as xr

    reprojected = xr.open_dataset(tmp_path / "m.nc", decode_coords="all")
    assert reprojected.rio.crs.to_epsg() == 3035 and np.isfinite(reprojected["soc_pred"].to_numpy()).sum() > 500


def test_the_same_map_on_an_external_scheduler_with_two_workers(run_and_grid, dask_cluster, tmp_path):
    import rioxarray

    run, frame, grid, folder = run_and_grid
    address, workers = dask_cluster
    local = map_run(folder / "run", grid, tmp_path / "local.tif", MapOptions(chunk=12, workers=1))
    remote = map_run(folder / "run", grid, tmp_path / "remote.tif", MapOptions(chunk=12, scheduler=address))
    assert remote["mapped"] == local["mapped"] == NY * NX - 5
    a = rioxarray.open_rasterio(tmp_path / "local.tif", masked=True).to_numpy()
    b = rioxarray.open_rasterio(tmp_path / "remote.tif", masked=True).to_numpy()
    np.testing.assert_array_equal(a, b)


def test_the_map_bench_on_a_small_grid():
    from core.bench.maps import map_throughput

    result = map_throughput(quick=True, chunk=128)
    assert result["mapped"] == result["land_pixels"] > 30_000 and result["nodata"] > 0
    assert result["map_pixels_per_second"] > 0 and result["peak_rss_mb"] > 100
    assert result["max_relative_difference_to_predict"] < 1e-5
    assert result["map_seconds_without_aoa"] > 0 and result["peak_rss_mb_without_aoa"] > 100
    assert result["aoa_time_share"] == result["map_seconds"] / result["map_seconds_without_aoa"] - 1


def test_the_dashboard_map_view_draws_a_finished_run_over_the_grid(run_and_grid):
    import holoviews as hv

    from app.ui.views.base import ViewState
    from app.ui.views.grid_map import GridMap
    from core.mapping import preview_map
    from core.report.plots import use_bokeh

    use_bokeh()
    run, frame, grid, folder = run_and_grid
    view = GridMap(run.plan.spec)
    assert "serve --grid" in view.render(ViewState())  # no grid: a note on how to get one
    drawn = view.render(ViewState(grid=str(grid), run=run))
    notes = [item for item in drawn if isinstance(item, str)]
    plots = [item for item in drawn if not isinstance(item, str)]
    assert len(notes) == 1 and "outside the run's area of applicability" in notes[0]
    assert all(isinstance(plot, (hv.Image, hv.Overlay)) for plot in plots)  # grey pixels outside the AOA: an overlay
    assert len(plots) == 4 + 5  # every target's prediction and the five neural parameters
    preview = preview_map(run, grid)
    assert 0 <= preview["outside_aoa"] <= 1 and preview["mapped"] == NY * NX - 5
    assert preview["step"] == 1 and preview["crs"] == "EPSG:4326"
    mapped = preview["values"]["soc_pred"].ravel()
    expected = load_run(folder / "run").predict(frame)["soc_pred"].to_numpy()
    ok = np.isfinite(mapped)
    assert ok.sum() == NY * NX - 5  # the same nodata pixels as the full map
    np.testing.assert_allclose(mapped[ok], expected[ok], rtol=1e-5, atol=1e-5)
