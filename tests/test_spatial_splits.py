"""The spatial split (blocks of --block-size km through verde) and the split's geometry in metrics.json."""
import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.datasets import HybridData
from core.errors import DataError, HybridlabError
from core.run.plan import RunPlan
from core.training.blocks import block_folds, project_km, site_blocks
from core.spatial.geometry import nearest_distance_km, split_coordinates, split_geometry
from core.training.splits import SplitConfig, split_rows
from core.sweep import SweepPlan


def _sites(n_sites=300, rows_per_site=3, seed=0):
    """Sites over a Europe-sized box, each with several rows a few hundred metres apart."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(-10, 30, n_sites), rng.uniform(35, 70, n_sites)
    groups = np.repeat(np.arange(n_sites), rows_per_site)
    jitter = rng.normal(0, 0.003, (len(groups), 2))
    lonlat = np.column_stack([lon[groups], lat[groups]]) + jitter
    return groups, lonlat


def _data(frame):
    return HybridData(frame, "site", ["x"], {}, {"y": "y"}, {"name": "toy"})


def test_every_row_of_a_site_stays_on_one_side_and_blocks_do_not_straddle():
    groups, lonlat = _sites()
    train, val = split_rows(groups, SplitConfig("spatial", block_size=400), seed=3, coordinates=lonlat)
    assert len(train) + len(val) == len(groups) and set(groups[train]).isdisjoint(groups[val])
    blocks = site_blocks(groups, lonlat, 400)
    label = blocks.labels[blocks.codes]
    assert set(label[train]).isdisjoint(label[val])
    assert 0.1 < len(val) / len(groups) < 0.3  # about val_fraction = 0.2 of the blocks


def test_block_folds_cover_every_block_once():
    groups, lonlat = _sites(seed=1)
    blocks = site_blocks(groups, lonlat, 500)
    seen_blocks, seen_sites = [], []
    for fold in range(4):
        train, val = split_rows(groups, SplitConfig("spatial", block_size=500, folds=4, fold=fold), seed=2,
                                coordinates=lonlat)
        assert set(groups[train]).isdisjoint(groups[val])
        seen_sites += sorted(set(groups[val]))
        seen_blocks += sorted(set(blocks.labels[blocks.codes][val]))
    assert sorted(seen_sites) == sorted(set(groups))
    assert sorted(seen_blocks) == sorted(set(blocks.labels))  # each block in exactly one fold
    assert [len(np.unique(blocks.labels[s])) for s in block_folds(blocks, 4, 2)] == \
        [len(set(blocks.labels[blocks.codes][split_rows(groups, SplitConfig("spatial", block_size=500, folds=4,
                                                                             fold=f), seed=2,
                                                        coordinates=lonlat)[1]])) for f in range(4)]


def test_validation_sites_lie_further_from_training_than_under_a_random_split():
    groups, lonlat = _sites(n_sites=600, rows_per_site=1, seed=4)
    frame = pd.DataFrame({"site": groups, "lon": lonlat[:, 0], "lat": lonlat[:, 1], "x": 0.0, "y": 1.0})
    data = _data(frame)
    distances = {}
    for cfg in (SplitConfig("site"), SplitConfig("spatial", block_size=600)):
        train, val = split_rows(groups, cfg, seed=0, coordinates=lonlat)
        geometry = split_geometry(data, cfg, train, val, seed=0)
        distances[cfg.kind] = geometry["median_nearest_train_km"]
    assert distances["spatial"] > 2 * distances["site"]


def test_geometry_reports_blocks_and_a_brute_force_nearest_distance():
    groups, lonlat = _sites(n_sites=200, rows_per_site=1, seed=5)
    frame = pd.DataFrame({"site": groups, "lon": lonlat[:, 0], "lat": lonlat[:, 1], "x": 0.0, "y": 1.0})
    cfg = SplitConfig("spatial", block_size=700, folds=3, fold=1)
    train, val = split_rows(groups, cfg, seed=1, coordinates=lonlat)
    geometry = split_geometry(_data(frame), cfg, train, val, seed=1)
    lon1, lat1 = np.radians(lonlat[val, 0])[:, None], np.radians(lonlat[val, 1])[:, None]
    lon2, lat2 = np.radians(lonlat[train, 0])[None, :], np.radians(lonlat[train, 1])[None, :]
    # haversine by hand, every validation site against every training site
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    brute = (2 * 6371.0088 * np.arcsin(np.sqrt(h))).min(axis=1)
    assert geometry["median_nearest_train_km"] == pytest.approx(np.median(brute), rel=1e-9)
    assert geometry["block_size_km"] == 700 and geometry["folds"] == 3 and geometry["fold"] == 1
    assert sum(geometry["blocks_per_fold"]) == geometry["blocks"]
    assert geometry["val_blocks"] == geometry["blocks_per_fold"][1]
    assert geometry["train_blocks"] + geometry["val_blocks"] == geometry["blocks"]
    assert all(0.6 < s / 700 < 1.4 for s in geometry["block_spacing_km"])


def test_projection_keeps_distances_in_km():
    xy = project_km(np.array([[10.0, 50.0], [10.0, 51.0], [11.0, 50.0]]))
    assert np.hypot(*(xy[1] - xy[0])) == pytest.approx(111.2, rel=0.01)  # one degree of latitude
    assert np.hypot(*(xy[2] - xy[0])) == pytest.approx(71.7, rel=0.01)  # one degree of longitude at 50° N
    assert nearest_distance_km(np.array([[10.0, 50.0]]), np.array([[10.0, 51.0]]))[0] == pytest.approx(111.2, rel=0.01)


@pytest.mark.parametrize("size, message", [(0, "more than 0 km, got 0"), (-5, "more than 0 km, got -5"),
                                           (None, "needs --block-size KM")])
def test_bad_block_sizes_are_refused_in_one_line(size, message):
    with pytest.raises(HybridlabError, match=message):
        SplitConfig("spatial", block_size=size)


def test_blocks_as_large_as_the_data_or_too_few_for_the_folds_are_refused():
    groups, lonlat = _sites(n_sites=100, rows_per_site=1)
    with pytest.raises(HybridlabError, match=r"--block-size 9000 km is not smaller than the data's extent \(\d+ km "
                                             r"east-west × \d+ km north-south\)"):
        split_rows(groups, SplitConfig("spatial", block_size=9000), coordinates=lonlat)
    with pytest.raises(HybridlabError, match="--folds 5 of a spatial split needs at least 5 blocks"):
        split_rows(groups, SplitConfig("spatial", block_size=2000, folds=5), coordinates=lonlat)


def test_points_without_coordinates_are_refused_naming_the_fix():
    frame = pd.DataFrame({"site": np.arange(10), "x": 0.0, "y": 1.0})
    spatial = SplitConfig("spatial", block_size=100)
    with pytest.raises(DataError, match="toy.*has no longitude/latitude columns.*--coordinates LON,LAT"):
        split_coordinates(_data(frame), spatial)
    assert split_coordinates(_data(frame), SplitConfig("site")) is None  # other splits: no geometry, no refusal
    frame = frame.assign(lon=np.linspace(0, 9, 10), lat=[50.0] * 9 + [np.nan])
    with pytest.raises(DataError, match="column 'lat' has 1 missing.*row 9.*fill them, drop those rows"):
        split_coordinates(_data(frame), spatial)
    frame["lat"] = 5e6
    with pytest.raises(DataError, match="outside -90..90.*degrees"):
        split_coordinates(_data(frame), spatial)
    with pytest.raises(DataError, match="coordinate column.*easting.*not found"):
        split_coordinates(_data(frame), SplitConfig("spatial", block_size=100, coordinates=["easting", "lat"]))


def test_plans_round_trip_and_other_kinds_keep_their_dicts():
    assert "block_size" not in SplitConfig("site").to_dict() and SplitConfig("site").folds == 5
    plan = RunPlan(model="soc", split={"kind": "spatial", "block_size": 250, "folds": 4, "fold": 3,
                                       "coordinates": ["lon", "lat"]})
    again = RunPlan.from_text(plan.to_yaml())
    assert again.split == plan.split and again.split.folds == 4
    assert RunPlan(model="soc", split={"kind": "spatial", "block_size": 250}).split.folds is None


def test_sweep_folds_run_every_block_fold_and_a_spatial_variant_is_a_hold_out():
    spatial = RunPlan(model="soc", split={"kind": "spatial", "block_size": 300}).to_dict()
    splits = [t.plan["split"] for t in SweepPlan(spatial, folds=3).tasks()]
    assert [(s["kind"], s["folds"], s["fold"]) for s in splits] == [("spatial", 3, f) for f in range(3)]
    site = RunPlan(model="soc", split={"kind": "site", "block_size": 300}).to_dict()
    variants = {t.axes["split"]: t.plan["split"] for t in SweepPlan(site, splits=["site", "spatial"]).tasks()}
    assert variants["spatial"]["block_size"] == 300 and variants["spatial"]["folds"] is None  # not the base's 5


def test_cli_refuses_a_bad_block_size_with_exit_2(tmp_path, capsys):
    code = main(["train", "--model", "soc", "--split", "spatial", "--block-size", "-1", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "--block-size must be more than 0 km, got -1" in err


@pytest.mark.slow
def test_train_with_a_spatial_split_writes_its_geometry(tmp_path):
    out = tmp_path / "run"
    code = main(["train", "--model", "soc", "--targets", "soc,moc", "--n-sites", "200", "--epochs", "2",
                 "--split", "spatial", "--block-size", "500", "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    geometry = metrics["split_geometry"]
    assert metrics["split"] == "spatial" and geometry["block_size_km"] == 500
    assert geometry["blocks"] == geometry["train_blocks"] + geometry["val_blocks"] and geometry["val_blocks"] >= 1
    assert geometry["median_nearest_train_km"] > 0 and geometry["val_sites"] == metrics["n_val"]
    predictions = pd.read_parquet(out / "predictions.parquet")
    assert (predictions["split"] == "val").sum() == metrics["n_val"]


def test_dashboard_offers_the_spatial_split_with_a_block_size():
    from app.state.setup import Setup

    setup = Setup(split="spatial", block_size=450.0)
    assert "spatial" in setup.param.split.objects
    plan = setup.plan()
    assert plan.split.kind == "spatial" and plan.split.block_size == 450 and plan.split.folds is None
    again = Setup()
    again.load_plan(plan)
    assert (again.split, again.block_size) == ("spatial", 450)
    assert "block_size" not in Setup(split="site").plan().split.to_dict()
