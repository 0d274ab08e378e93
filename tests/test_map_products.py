"""Map products people can publish: a Cloud-Optimised GeoTIFF that validates and opens with rioxarray,
CF units, the interval level and the run's provenance in the metadata, a STAC item beside every map
that validates with pystac; a grid in another CRS and bad block sizes are one line, exit 2."""
import hashlib
import json
import re

import numpy as np
import pytest

from core.cli import main
from core.datasets import load_data
from core.mapping.products import cf_units

COVARIATES = ["clay", "ph", "map", "elev"]
FORCING = ["npp", "temp", "soil_mass"]
NY, NX = 12, 14
#: UDUNITS symbols the models' units use (a CF units string is a product of these with integer powers)
SYMBOLS = {"g", "kg", "m", "cm", "mm", "s", "year", "umol", "degC"}


@pytest.mark.parametrize("unit, expected", [("-", "1"), ("", "1"), ("g C kg⁻¹", "g kg-1"), ("yr⁻¹", "year-1"),
                                            ("kg g⁻¹ yr⁻¹ (beta=2)", "kg g-1 year-1"),
                                            ("µmol m⁻² s⁻¹", "umol m-2 s-1"), ("m³ m⁻³", "m3 m-3"),
                                            ("°C", "degC"), ("g C m-2 yr-1", "g m-2 year-1")])
def test_units_become_cf_strings(unit, expected):
    assert cf_units(unit) == expected


def test_every_model_unit_is_a_udunits_product():
    from core.models import MODELS

    for spec in MODELS.values():
        units = [p.unit for p in spec.parameters()] + list(spec.units.values())
        for unit in units:
            converted = cf_units(unit)
            assert converted == "1" or all(re.fullmatch(r"([a-zA-Z]+)(-?\d+)?", t) and
                                           re.fullmatch(r"([a-zA-Z]+)(-?\d+)?", t).group(1) in SYMBOLS
                                           for t in converted.split()), (spec.name, unit, converted)


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    """A two-member five_neural run trained from a CSV file, with intervals, and its GeoTIFF and
    NetCDF maps (level 0.9) over a 12 x 14 grid of its sites whose top-left 2 x 3 pixels have no data."""
    import rasterio
    from rasterio.transform import from_origin

    from core.run.execute import execute

    folder = tmp_path_factory.mktemp("products")
    frame = load_data("lucas-synthetic", n=700).frame
    frame.to_csv(folder / "soil.csv", index=False)
    mapping = {"id": "site_id", "predictors": COVARIATES, "targets": {"soc": "soc", "moc": "moc"},
               "forcing": {f: f for f in FORCING}}
    execute({"model": "soc", "roles": "five_neural", "data": {"path": str(folder / "soil.csv"), "columns": mapping},
             "split": {"calibration": 0.15}, "network": {"hidden": [8]},
             "train": {"epochs": 2, "patience": 2, "members": 2}}, out=folder / "run")
    stack = np.stack([frame[b].to_numpy()[:NY * NX].reshape(NY, NX) for b in COVARIATES + FORCING]).astype("float32")
    stack[:, :2, :3] = -9999
    with rasterio.open(folder / "grid.tif", "w", driver="GTiff", height=NY, width=NX, count=len(stack),
                       dtype="float32", crs="EPSG:4326", transform=from_origin(5, 55, 0.1, 0.1), nodata=-9999) as r:
        r.write(stack)
        for i, name in enumerate(COVARIATES + FORCING, 1):
            r.set_band_description(i, name)
    common = ["map", "--run", str(folder / "run"), "--grid", str(folder / "grid.tif"), "--interval", "0.9",
              "--workers", "1", "--chunk", "16"]
    for suffix in ("tif", "nc"):
        assert main(common + ["--out", str(folder / f"soc.{suffix}")]) == 0
    return folder



@pytest.mark.slow
def test_the_geotiff_is_a_valid_cog_that_opens_with_rioxarray(maps):
    import rioxarray
    from rio_cogeo.cogeo import cog_validate

    valid, errors, warnings = cog_validate(str(maps / "soc.tif"), strict=True, quiet=True)
    assert valid and errors == [] and warnings == []
    mapped = rioxarray.open_rasterio(maps / "soc.tif", band_as_variable=True, mask_and_scale=True)
    bands = {mapped[v].attrs["long_name"]: mapped[v] for v in mapped.data_vars}
    assert str(mapped.rio.crs) == "EPSG:4326" and mapped.rio.transform() == rioxarray.open_rasterio(
        maps / "grid.tif").rio.transform()
    assert np.isnan(bands["soc_pred"].to_numpy()[:2, :3]).all() and np.isfinite(bands["soc_pred"][2:, 3:]).all()
    units = {name: str(band.attrs["units"]) for name, band in bands.items()}  # rioxarray reads "1" as 1
    assert units["soc_pred"] == "g kg-1" and units["cue"] == units["di"] == units["aoa"] == "1"
    assert units["v_max0"] == "year-1" and "-" not in units.values()
    assert "0.9 prediction interval" in bands["soc_lower"].attrs["meaning"]
    assert float(bands["soc_upper"].attrs["interval_level"]) == 0.9


@pytest.mark.slow
def test_provenance_is_in_the_geotiff_and_the_netcdf(maps):
    import rasterio
    import xarray as xr

    import core

    checksum = hashlib.sha256((maps / "soil.csv").read_bytes()).hexdigest()
    with rasterio.open(maps / "soc.tif") as raster:
        tags = raster.tags()
    with xr.open_dataset(maps / "soc.nc") as nc:
        attributes = dict(nc.attrs)
        assert nc["soc_pred"].attrs["units"] == "g kg-1" and nc["cue"].attrs["units"] == "1"
        assert "0.9 prediction interval" in nc["soc_lower"].attrs["long_name"]
    for metadata in (tags, attributes):
        assert metadata["model"] == "soc" and metadata["data_sha256"] == checksum
        assert json.loads(metadata["roles"])["q_max"] == "neural" and json.loads(metadata["roles"])["k_b"] == "global"
        assert json.loads(metadata["data"])["path"] == str((maps / "soil.csv").resolve())
        assert metadata["hybridlab_version"] == core.__version__ and float(metadata["interval_level"]) == 0.9
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", metadata["date_created"])
    assert attributes["Conventions"] == "CF-1.8"


@pytest.mark.slow
def test_a_stac_item_beside_each_map_validates_and_lists_its_bands(maps):
    import pystac
    import rasterio

    for suffix, media in (("tif", pystac.MediaType.COG), ("nc", "application/netcdf")):
        item = pystac.Item.from_file(str(maps / f"soc.{suffix}.stac.json"))
        item.validate()  # the core STAC 1.1 schemas pystac ships: no extension, nothing fetched
        asset = item.assets["data"]
        assert asset.media_type == media and asset.href.endswith(f"soc.{suffix}")
        bands = {b["name"]: b for b in asset.extra_fields["bands"]}
        assert bands["q_max"]["unit"] == "g kg-1" and "Langmuir MOC capacity" in bands["q_max"]["description"]
        assert bands["aoa"]["unit"] == "1" and bands["soc_lower"]["hybridlab:interval_level"] == 0.9
        assert item.properties["hybridlab:model"] == "soc" and item.properties["hybridlab:roles"]["cue"] == "neural"
        assert item.bbox == pytest.approx([5, 55 - 0.1 * NY, 5 + 0.1 * NX, 55])
    with rasterio.open(maps / "soc.tif") as raster:
        assert list(bands) == list(raster.descriptions)  # every band of the map, in its order


@pytest.mark.slow
def test_a_stac_item_that_hybridlab_did_not_write_is_kept(maps, tmp_path, capsys):
    out = tmp_path / "m.tif"
    (tmp_path / "m.tif.stac.json").write_text('{"mine": true}')
    code = main(["map", "--run", str(maps / "run"), "--grid", str(maps / "grid.tif"), "--workers", "1",
                 "--out", str(out), "--overwrite"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "was not written by hybridlab" in lines[0], lines
    assert (tmp_path / "m.tif.stac.json").read_text() == '{"mine": true}' and not out.exists()


@pytest.mark.slow
def test_a_map_and_its_item_that_hybridlab_wrote_are_replaced_with_overwrite(maps, tmp_path):
    from core.mapping.stac import owned_item

    out = tmp_path / "m.tif"
    common = ["map", "--run", str(maps / "run"), "--grid", str(maps / "grid.tif"), "--workers", "1", "--out", str(out)]
    assert main(common) == 0 and owned_item(tmp_path / "m.tif.stac.json")
    first = (tmp_path / "m.tif.stac.json").stat().st_ino  # replaced by a rename: a new file
    assert main(common + ["--overwrite"]) == 0
    assert owned_item(tmp_path / "m.tif.stac.json") and (tmp_path / "m.tif.stac.json").stat().st_ino != first
    assert not owned_item(maps / "soil.csv") and not owned_item(tmp_path / "missing.json")


@pytest.mark.slow
def test_a_grid_in_another_crs_is_one_line(maps, tmp_path, capsys):
    import rioxarray

    grid = rioxarray.open_rasterio(maps / "grid.tif", masked=True).rio.reproject("EPSG:3035")
    grid.rio.to_raster(tmp_path / "laea.tif")
    code = main(["map", "--run", str(maps / "run"), "--grid", str(tmp_path / "laea.tif"), "--workers", "1",
                 "--out", str(tmp_path / "m.tif")])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, lines
    assert "EPSG:3035" in lines[0] and "give --reproject" in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "m.tif").exists() and not (tmp_path / "m.tif.stac.json").exists()


@pytest.mark.parametrize("size, message", [("0", "--block-size"), ("90000", "not smaller than the data's extent")])
def test_a_block_size_of_zero_or_beyond_the_extent_is_one_line(tmp_path, capsys, size, message):
    code = main(["train", "--model", "soc", "--n-sites", "300", "--epochs", "1", "--split", "spatial",
                 "--block-size", size, "--out", str(tmp_path / "run")])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "run").exists()
