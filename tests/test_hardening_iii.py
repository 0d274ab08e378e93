"""Issue #37 (hardening, third round), outside ``data lucas``: the one output writer
(:mod:`core.io.outputs`), ``map`` (what --overwrite may replace, georeferencing, declared sizes, a
full disk, signals), ``identify --validation``, twin files re-checked, calibration scores,
interval messages and bad numbers that used to end as internal errors. Real files throughout."""
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main
from core.errors import HybridlabError
from core.io.outputs import MANIFEST, check_output, replacing, write_file, write_text
from core.io.signals import Interrupted, raise_on_signals

BANDS = dict(clay=20, ph=6, map=700, elev=300, npp=500, temp=10, soil_mass=250)


def _geotiff(path: Path, transform, shape=(24, 30), crs="EPSG:4326", noise: bool = False) -> Path:
    import rasterio

    rng = np.random.default_rng(0)
    with rasterio.open(path, "w", driver="GTiff", height=shape[0], width=shape[1], count=len(BANDS), dtype="float32",
                       crs=crs, transform=transform) as raster:
        for i, (name, value) in enumerate(BANDS.items(), 1):
            values = np.full(shape, value, "float32")
            if noise:
                values *= rng.uniform(0.8, 1.2, shape).astype("float32")
            raster.write(values, i)
            raster.set_band_description(i, name)
    return path


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A tiny five_neural SOC run with coordinates among its predictors, and a regular grid."""
    from affine import Affine

    from core.run.execute import execute

    folder = tmp_path_factory.mktemp("hardening")
    execute({"model": "soc", "roles": "five_neural",
             "data": {"name": "lucas-synthetic", "n": 1000, "predictors": ["clay", "ph", "map", "elev", "lat", "lon"]},
             "network": {"hidden": [8]}, "train": {"epochs": 2}}, out=folder / "run")
    _geotiff(folder / "grid.tif", Affine(.1, 0, 5, 0, -.1, 55))
    return folder


def _map(folder: Path, grid, out, *extra) -> int:
    return main(["map", "--run", str(folder / "run"), "--grid", str(grid), "--out", str(out), "--workers", "1",
                 *map(str, extra)])


def _siblings(path: Path) -> list[str]:
    """Hidden leftovers of a write beside ``path`` (partial files, lock files)."""
    return [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]


# --- the writer ------------------------------------------------------------------------------------

class Stop(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.one_of(st.none(), st.binary(max_size=2000)), new=st.binary(max_size=4000),
       cut=st.integers(min_value=0, max_value=4000), fail=st.booleans())
def test_a_failed_write_never_leaves_a_complete_looking_file_and_keeps_the_old_one(tmp_path, old, new, cut, fail):
    out = tmp_path / "table.csv"
    out.unlink(missing_ok=True)
    if old is not None:
        out.write_bytes(old)

    def writer(temp: Path):
        with open(temp, "wb") as handle:
            handle.write(new[:cut] if fail else new)
            handle.flush()
            if fail:
                raise Stop("the disk is full")

    if fail:
        with pytest.raises(Stop):
            write_file(out, writer)
        assert (out.read_bytes() if out.exists() else None) == old  # the old output survives, untouched
    else:
        write_file(out, writer)
        assert out.read_bytes() == new
    assert _siblings(out) == []  # no partial file left beside it


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.text("abcxyz", min_size=1, max_size=6), min_size=1, max_size=6, unique=True),
       written=st.integers(min_value=0, max_value=6), fail=st.booleans())
def test_a_folder_output_is_swapped_in_whole_or_not_at_all(tmp_path, files, written, fail):
    out = tmp_path / "map.zarr"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    with replacing(out, folder=True) as temp:  # an earlier complete output
        temp.mkdir()
        (temp / "old").write_text("old")
    try:
        with replacing(out, folder=True) as temp:
            temp.mkdir()
            for name in files[:written] if fail else files:
                (temp / name).write_text(name)
            if fail:
                raise Stop
    except Stop:
        pass
    kept = sorted(p.name for p in out.iterdir() if p.name != MANIFEST)
    assert kept == (["old"] if fail else sorted(files))
    assert json.loads((out / MANIFEST).read_text())["files"] == kept  # the manifest lists exactly what is there
    assert _siblings(out) == []


def test_overwrite_replaces_only_what_hybridlab_wrote_and_never_an_input(tmp_path):
    with replacing(tmp_path / "ours.zarr", folder=True) as temp:
        temp.mkdir()
        (temp / "a").write_text("1")
    assert check_output(tmp_path / "ours.zarr", overwrite=True, folder=True) == tmp_path / "ours.zarr"
    (tmp_path / "ours.zarr" / "README.txt").write_text("mine")  # a user's file added later
    with pytest.raises(HybridlabError, match="README.txt"):
        check_output(tmp_path / "ours.zarr", overwrite=True, folder=True)
    source = tmp_path / "in.parquet"
    source.write_text("data")
    os.link(source, tmp_path / "hard.parquet")  # the same file under another name
    with pytest.raises(HybridlabError, match="being read"):
        check_output(tmp_path / "hard.parquet", overwrite=True, inputs=[source])
    write_text(tmp_path / "note.txt", "x")
    assert (tmp_path / "note.txt").read_text() == "x"


@pytest.mark.parametrize("folder", [False, True])
def test_a_signal_whose_exception_was_swallowed_still_stops_the_output(tmp_path, folder):
    out = tmp_path / ("m.zarr" if folder else "m.tif")
    with pytest.raises(Interrupted) as stopped:
        with raise_on_signals():
            try:  # as a library's ``except BaseException`` or a ``__del__`` would
                os.kill(os.getpid(), signal.SIGTERM)
            except BaseException:  # noqa: BLE001
                pass
            with replacing(out, folder=folder) as temp:
                (temp.mkdir(), (temp / "a").write_text("x")) if folder else temp.write_text("x")
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    assert not out.exists() and list(tmp_path.iterdir()) == []
    write_text(tmp_path / "later.txt", "y")  # the next output, outside, is not stopped by the old signal
    assert (tmp_path / "later.txt").read_text() == "y"


def test_a_signal_inside_a_del_prints_no_traceback_and_still_stops(tmp_path, monkeypatch):
    """As when SIGTERM lands in Dask's gc callback: Python cannot raise it there and hands it to
    sys.unraisablehook, which prints "Exception ignored in ..." with a traceback; it is kept and
    raised on the way out instead, and the process's hook never sees it."""
    class Finalised:
        def __del__(self):
            signal.raise_signal(signal.SIGTERM)

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: seen.append(args.exc_value))
    hook = sys.unraisablehook
    with pytest.raises(Interrupted) as stopped:
        with raise_on_signals():
            Finalised()  # collected at once: its __del__ gets the signal
            (tmp_path / "after.txt").write_text("x")  # the work goes on until the check on leaving
    assert stopped.value.exit_code == 128 + signal.SIGTERM
    assert seen == []  # nothing printed
    assert sys.unraisablehook is hook  # the process's own hook again, outside


# --- map: F1, F3, F6, F14, F15, F16 ---------------------------------------------------------------

@pytest.mark.slow
def test_map_overwrite_keeps_a_users_zarr_store_and_a_store_the_grid_reads(run_folder, tmp_path, capsys):
    import xarray as xr

    xr.Dataset({"mine": (("y", "x"), np.zeros((2, 2)))}).to_zarr(tmp_path / "mine.zarr")
    (tmp_path / "mine.zarr" / "README.txt").write_text("keep")
    assert _map(run_folder, run_folder / "grid.tif", tmp_path / "mine.zarr", "--overwrite") == 2
    assert "did not write" in capsys.readouterr().err
    assert (tmp_path / "mine.zarr" / "README.txt").read_text() == "keep"
    # an earlier map, which the grid now reads through a link inside its own folder
    assert _map(run_folder, run_folder / "grid.tif", tmp_path / "old.zarr") == 0
    grid = tmp_path / "grid"
    grid.mkdir()
    (grid / "covariates.tif").symlink_to(run_folder / "grid.tif")
    (grid / "old").symlink_to(tmp_path / "old.zarr")
    capsys.readouterr()
    assert main(["map", "--run", str(run_folder / "run"), "--grid", str(grid / "covariates.tif"), "--out",
                 str(tmp_path / "old.zarr"), "--overwrite", "--workers", "1"]) == 0  # not read by this grid
    link_grid = tmp_path / "link.zarr"
    link_grid.symlink_to(tmp_path / "old.zarr")
    assert _map(run_folder, link_grid, tmp_path / "old.zarr", "--overwrite") == 2
    assert "being read" in capsys.readouterr().err and (tmp_path / "old.zarr" / "soc_pred").is_dir()


@pytest.mark.slow
def test_map_refuses_rotated_mislabelled_and_irregular_grids(run_folder, tmp_path, capsys):
    from affine import Affine

    rotated = _geotiff(tmp_path / "rot.tif", Affine(.1, .05, 5, .05, -.1, 55))
    sheared = _geotiff(tmp_path / "shear.tif", Affine(.1, .02, 5, 0, -.1, 55))
    metres = _geotiff(tmp_path / "metres.tif", Affine(1000, 0, 4e6, 0, -1000, 3e6))
    rng = np.random.default_rng(1)
    scattered = pd.DataFrame({"x": rng.uniform(5, 8, 300), "y": rng.uniform(50, 55, 300), **BANDS})
    scattered.to_csv(tmp_path / "points.csv", index=False)
    for grid, message in ((rotated, "rotated or sheared"), (sheared, "rotated or sheared"),
                          (metres, "outside -180..360"), (tmp_path / "points.csv", "not evenly spaced")):
        assert _map(run_folder, grid, tmp_path / "m.tif") == 2
        err = capsys.readouterr().err
        assert message in err and str(grid) in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "m.tif").exists() and _siblings(tmp_path / "m.tif") == []
    # a regular table with whole missing columns (sea) is still a grid: the gaps become pixels
    from core.datasets.grids import regular_axis

    axis = regular_axis(np.array([5.05, 5.15, 5.25, 5.55, 5.65, 5.05]), tmp_path / "t.csv", "x")
    assert np.allclose(axis, 5.05 + 0.1 * np.arange(7))
    with pytest.raises(HybridlabError, match="x centres are not evenly spaced"):
        regular_axis(np.array([0.0, 1.0, 2.5]), tmp_path / "t.csv", "x")


@pytest.mark.slow
def test_map_checks_declared_pixels_before_allocating(run_folder, tmp_path, capsys):
    import zarr

    group = zarr.open_group(str(tmp_path / "huge.zarr"), mode="w")
    for name in BANDS:
        group.create_array(name, shape=(10 ** 6, 10 ** 6), chunks=(1000, 1000), dtype="f4", dimension_names=["y", "x"])
    for name in ("y", "x"):
        group.create_array(name, shape=(10 ** 6,), dtype="f8", dimension_names=[name])
    assert _map(run_folder, tmp_path / "huge.zarr", tmp_path / "m.tif") == 2
    err = capsys.readouterr().err
    assert "--max-pixels 1,000,000,000" in err and "1,000,000 x 1,000,000" in err
    assert _map(run_folder, run_folder / "grid.tif", tmp_path / "m.tif", "--max-pixels", 100) == 2
    assert "720 pixels, more than --max-pixels 100" in capsys.readouterr().err
    assert not list(tmp_path.glob(".m.tif*"))


def _limited(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _cli(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], capture_output=True, text=True,
                          timeout=240, **kwargs)


@pytest.mark.slow
def test_a_full_disk_keeps_the_old_map_and_is_one_line(run_folder, tmp_path):
    from affine import Affine

    grid = _geotiff(tmp_path / "big.tif", Affine(.01, 0, 5, 0, -.01, 55), shape=(200, 200), noise=True)
    base = ["map", "--run", run_folder / "run", "--grid", grid, "--workers", "1"]
    for out, chunk, limit in ((tmp_path / "m.tif", 64, 300_000), (tmp_path / "m.zarr", 256, 60_000)):
        assert _cli([*base, "--out", out, "--chunk", chunk]).returncode == 0  # the old, complete map
        before = sorted((p.relative_to(out).as_posix(), p.stat().st_size) for p in out.rglob("*")) \
            if out.is_dir() else out.read_bytes()
        done = _cli([*base, "--out", out, "--chunk", chunk, "--overwrite"], preexec_fn=_limited(limit))
        assert done.returncode == 2, done.stderr
        assert "File too large" in done.stderr and "Traceback" not in done.stderr
        assert len([line for line in done.stderr.splitlines() if "error" in line]) == 1
        after = sorted((p.relative_to(out).as_posix(), p.stat().st_size) for p in out.rglob("*")) \
            if out.is_dir() else out.read_bytes()
        assert after == before and _siblings(out) == []


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_map_is_one_line_and_removes_the_partial_output(run_folder, tmp_path, signum):
    from affine import Affine

    grid = _geotiff(tmp_path / "big.tif", Affine(.01, 0, 5, 0, -.01, 55), shape=(400, 400))
    process = subprocess.Popen([sys.executable, "-m", "core", "map", "--run", str(run_folder / "run"), "--grid",
                                str(grid), "--out", str(tmp_path / "new.tif"), "--chunk", "16", "--workers", "1"],
                               stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if line.startswith("mapping "):  # the windows are being mapped
            break
    process.send_signal(signum)
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 128 + signum
    assert "Traceback" not in rest and "stopped by" in rest
    assert not (tmp_path / "new.tif").exists() and _siblings(tmp_path / "new.tif") == []


@pytest.mark.slow
def test_two_maps_into_one_out_at_once_is_one_line(run_folder, tmp_path, capsys):
    from core.io.outputs import claim_output

    with claim_output(tmp_path / "m.tif"):  # another map holds this --out
        assert _map(run_folder, run_folder / "grid.tif", tmp_path / "m.tif") == 2
    assert "another hybridlab process is writing" in capsys.readouterr().err
    assert not (tmp_path / "m.tif").exists()


# --- identify --validation (F2), twins and run files re-checked (F12) ------------------------------

@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    assert main(["sweep", "--model", "respiration", "--n-sites", "200", "--epochs", "5", "--seeds", "2", "--out",
                 str(folder / "sw"), "--quiet", "--workers", "1"]) == 0
    return folder / "sw"


def _copy(sweep: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(sweep, tmp_path / "sw", symlinks=True))


@pytest.mark.slow
def test_identify_validation_never_writes_over_a_run_file_or_a_foreign_file(sweep_folder, tmp_path, capsys):
    sweep = _copy(sweep_folder, tmp_path)
    model = sweep / "runs" / "default__seed0" / "model.pt"
    before = model.read_bytes()
    assert main(["identify", str(sweep), "--validation", str(model), "--overwrite"]) == 2
    assert "being read" in capsys.readouterr().err and model.read_bytes() == before
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    assert main(["identify", str(sweep), "--validation", str(tmp_path / "notes.json"), "--overwrite"]) == 2
    assert "not written by hybridlab" in capsys.readouterr().err
    assert (tmp_path / "notes.json").read_text() == '{"mine": 1}'
    out = tmp_path / "validation.json"
    assert main(["identify", str(sweep), "--validation", str(out)]) == 0
    assert main(["identify", str(sweep), "--validation", str(out)]) == 2  # exists, no --overwrite
    assert main(["identify", str(sweep), "--validation", str(out), "--overwrite"]) == 0
    assert "spearman" in json.loads(out.read_text()) and _siblings(out) == []


@pytest.mark.slow
def test_a_changed_twin_file_or_run_file_is_refused_not_scored(sweep_folder, tmp_path, capsys):
    sweep = _copy(sweep_folder, tmp_path)
    twins = ["identify", str(sweep), "--twins", "1", "--twin-members", "2", "--workers", "1"]
    assert main(twins) == 0
    (path,) = (sweep / "twins").glob("*/data/twin-1-*.parquet")
    table = pd.read_parquet(path)
    table["true_rb"] = table["true_rb"].to_numpy()[::-1]  # the truth permuted: the verdict would flip
    table.to_parquet(path, index=False)
    capsys.readouterr()
    assert main(twins) == 2
    err = capsys.readouterr().err
    assert str(path.name) in err and "changed after it was written" in err
    parameters = sweep / "runs" / "default__seed0" / "parameters.parquet"
    table = pd.read_parquet(parameters)
    table["rb"] = table["rb"].to_numpy()[::-1]
    table.to_parquet(parameters, index=False)
    assert main(["identify", str(sweep)]) == 2
    assert "parameters.parquet: not the file written with this run" in capsys.readouterr().err


# --- calibration scores (F17), interval messages (F18), bad numbers (F15) ---------------------------

def _calibration(scores, n=None) -> dict:
    return {"source": "members", "targets": {"reco": {"calibrated": True, "method": "conformal", "noise_sd": 0.1,
                                                      "scores": scores, "n": len(scores) if n is None else n}}}


@pytest.mark.parametrize("scores, message", [([-0.5, 0.1, 0.2], ">= 0"), ([True, 0.1, 0.2], "finite numbers"),
                                             ([0.3, 0.1, 0.2], "ascending"), ([0.1, 0.2], "number of scores")])
def test_calibration_scores_are_checked_for_type_sign_and_order(tmp_path, scores, message):
    from core.run.integrity import check_calibration

    with pytest.raises(HybridlabError, match=message):
        check_calibration(tmp_path / "calibration.json", _calibration(scores, n=3))
    assert check_calibration(tmp_path / "c.json", _calibration([0.0, 0.1, 0.1, 0.2]))


def test_an_interval_too_fine_for_the_calibration_names_the_level_unrounded_and_observations():
    from core.uncertainty.calibration import entry_predictive, target_bounds

    entry = _calibration(list(np.linspace(0, 1, 1832)))["targets"]["reco"]
    predictive = entry_predictive(entry, np.zeros(3), np.zeros((5, 3)))
    with pytest.raises(HybridlabError) as error:
        target_bounds(entry, predictive, 0.9999999, "reco")
    message = str(error.value)
    assert "a 0.9999999 interval" in message and "9,999,999 calibration observations" in message
    assert "1,832" in message and "calibration sites, the run has" not in message


def test_impossible_calibration_shares_and_member_counts_are_one_line(tmp_path, capsys):
    assert main(["train", "--model", "respiration", "--n-sites", "200", "--epochs", "1", "--calibration", "0.999",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "--calibration 0.999" in capsys.readouterr().err
    for members in ("0", "-2"):
        assert main(["experiment", "soc", "--members", members, "--out", str(tmp_path / "e"), "--epochs", "1",
                     "--n-sites", "200", "--quiet"]) == 2
        assert f"--members must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


# --- bench (F5) --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_bench_writes_nothing_into_the_current_folder(tmp_path):
    import shutil

    if not (os.environ.get("HYBRIDLAB_CHROMIUM") or shutil.which("chromium")):
        pytest.skip("the dashboard benchmark needs Chromium")
    (tmp_path / "bench-serve-1.log").write_text("mine")
    done = _cli(["bench", "--out", tmp_path / "b.json", "--dashboard-sessions", "1", "--bench-workers", "-3"],
                cwd=tmp_path)
    assert done.returncode == 2 and (tmp_path / "bench-serve-1.log").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench-serve-1.log"]


def test_running_out_of_memory_names_what_to_try_for_the_command():
    from core.cli import _what

    assert "--chunk" in _what(MemoryError(), "map")
    assert "fewer sites" in _what(MemoryError(), "train")
