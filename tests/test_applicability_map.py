"""``hybridlab map`` with a run's area of applicability: ``di`` and ``aoa`` bands, and
``--mask-outside-aoa`` leaves predictions and parameters nodata where the covariates lie outside."""
import json

import numpy as np
import pytest

from core.cli import main
from core.run.execute import execute

pytestmark = pytest.mark.slow

COVARIATES = ["clay", "ph", "map", "elev"]
FORCING = ["npp", "temp", "soil_mass"]
NY, NX = 10, 12


@pytest.fixture(scope="module")
def run_and_grid(tmp_path_factory):
    """A five_neural run on four covariates and a 10 x 12 grid of its sites whose left four
    columns have every covariate shifted by 6 sd (outside)."""
    import rasterio
    from rasterio.transform import from_origin

    folder = tmp_path_factory.mktemp("aoa_map")
    run = execute({"model": "soc", "roles": "five_neural", "data": {"name": "lucas-synthetic", "n": 800,
                                                                      "predictors": COVARIATES},
                   "network": {"hidden": [16, 8]}, "train": {"epochs": 3, "patience": 2}}, out=folder / "run")
    frame = run.data.frame.iloc[run.val_rows].iloc[:NY * NX].reset_index(drop=True)
    stack = np.stack([frame[b].to_numpy().reshape(NY, NX) for b in COVARIATES + FORCING]).astype("float64")
    sd = run.data.frame[COVARIATES].std().to_numpy()
    stack[:len(COVARIATES), :, :4] += 6 * sd[:, None, None]
    path = folder / "grid.tif"
    with rasterio.open(path, "w", driver="GTiff", height=NY, width=NX, count=len(stack), dtype="float64",
                       crs="EPSG:4326", transform=from_origin(5, 55, 0.1, 0.1), nodata=-9999) as raster:
        raster.write(stack)
        for i, name in enumerate(COVARIATES + FORCING, 1):
            raster.set_band_description(i, name)
    return folder, path


def _bands(path) -> dict:
    import rasterio

    with rasterio.open(path) as raster:  # nodata as NaN
        return {raster.descriptions[i]: (raster.read(i + 1, masked=True).astype("float64").filled(np.nan),
                                         raster.tags(i + 1)) for i in range(raster.count)}


def test_a_map_has_di_and_aoa_bands_and_masks_outside_on_request(run_and_grid, tmp_path):
    folder, grid = run_and_grid
    common = ["map", "--run", str(folder / "run"), "--grid", str(grid), "--workers", "1", "--chunk", "16"]
    assert main(common + ["--out", str(tmp_path / "plain.tif")]) == 0
    assert main(common + ["--out", str(tmp_path / "masked.tif"), "--mask-outside-aoa"]) == 0
    plain, masked = _bands(tmp_path / "plain.tif"), _bands(tmp_path / "masked.tif")
    aoa, di = plain["aoa"][0], plain["di"][0]
    assert plain["di"][1]["units"] == "1" and plain["aoa"][1]["units"] == "1"
    assert (aoa[:, :4] == 0).all() and aoa[:, 4:].mean() >= 0.9  # the shifted columns are outside
    assert di[:, :4].min() > di[:, 4:].max()
    outside = aoa == 0
    for name in ("soc_pred", "q_max"):
        assert np.isfinite(plain[name][0]).all()
        assert np.isnan(masked[name][0][outside]).all()
        np.testing.assert_array_equal(masked[name][0][~outside], plain[name][0][~outside])
    np.testing.assert_array_equal(masked["di"][0], di)


def test_the_mask_without_an_area_of_applicability_is_one_line(run_and_grid, tmp_path, capsys):
    import shutil

    folder, grid = run_and_grid
    old = tmp_path / "old"
    shutil.copytree(folder / "run", old)
    (old / "applicability.npz").unlink()
    marker = json.loads((old / ".complete").read_text())  # as a run written before the AOA existed
    del marker["sha256"]["applicability.npz"]
    (old / ".complete").write_text(json.dumps(marker))
    code = main(["map", "--run", str(old), "--grid", str(grid), "--workers", "1", "--out", str(tmp_path / "m.tif"),
                 "--mask-outside-aoa"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "--mask-outside-aoa needs the run's area of applicability" in lines[0]
