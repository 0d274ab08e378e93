"""Hardening, second round: paths that would delete work, plans that would explode, markers that
would lie. Every case ends with one short line and exit code 2 on the CLI, and leaves the user's
files as they were."""
import json
import time
import zipfile

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main
from core.datasets import load_data
from core.io.documents import MAX_BYTES, load_yaml
from core.errors import HybridlabError
from core.run.integrity import marker_text
from core.run.plan import RunPlan

#: the longest error line a user may see (messages and the values they show are cut)
LINE = 600
TRAIN = ["train", "--model", "respiration", "--n-sites", "30", "--epochs", "2", "--hidden", "8,4", "--quiet"]


def _bomb(levels: int, where: str = "targets") -> str:
    lines = ["  - &a0 [" + ", ".join(["xxxxxxxx"] * 10) + "]"]
    lines += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    if where == "targets":
        return "model: respiration\ntargets:\n" + "\n".join(lines) + "\n"
    return ("model: respiration\ndata:\n  path: x.csv\n  columns:\n    id: site\n    predictors:\n"
            + "\n".join("    " + line for line in lines) + "\n")


def _refused(capsys, code, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and "Traceback" not in err[0] and len(err[0]) < LINE, err
    for fragment in fragments:
        assert fragment in err[0], err
    return err[0]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "resp"
    assert main([*TRAIN, "--out", str(out)]) == 0
    return out


@pytest.fixture
def copy_of_run(run_folder, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy)
    return copy


def _reseal(folder):
    """What a careful forger does: recompute the marker after changing the files."""
    (folder / ".complete").write_text(marker_text(folder))


# --- 1. plans that would explode --------------------------------------------------------------------

@pytest.mark.parametrize("text,fragment", [
    (_bomb(7), "anchors"),
    ("model: respiration\ntargets: " + "[" * 100_000, "nested more than"),
    ("model: !!python/object/apply:os.system [echo]\n", "tags"),
    ("model: respiration\ntargets: [" + ", ".join(["reco"] * 20_000) + "]\n", "entries"),
    ("model: '" + "x" * 50_000 + "'\n", "characters"),
])
def test_plans_that_would_explode_are_refused_before_parsing_grows(tmp_path, capsys, text, fragment):
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    start = time.perf_counter()
    _refused(capsys, main([*TRAIN[:1], "--config", str(path), "--out", str(tmp_path / "r")]), fragment)
    assert time.perf_counter() - start < 5 and not (tmp_path / "r").exists()


def test_dump_config_of_a_bomb_in_the_column_map_writes_nothing(tmp_path, capsys):
    path = tmp_path / "plan.yaml"
    path.write_text(_bomb(6, where="columns"))
    _refused(capsys, main(["train", "--config", str(path), "--dump-config"]), "anchors")
    assert capsys.readouterr().out == ""


def test_a_deep_json_config_is_one_line(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _refused(capsys, main(["train", "--config", str(path), "--out", str(tmp_path / "r")]), "nested more than")
    path.write_text("x" * (MAX_BYTES + 1))
    _refused(capsys, main(["train", "--config", str(path), "--out", str(tmp_path / "r")]), "at most")


def test_the_dashboard_refuses_the_same_configs_in_one_short_line():
    from app.state.setup import Setup

    setup = Setup()
    for name, text in (("plan.yaml", _bomb(6)), ("config.json", "[" * 100_000)):
        with pytest.raises(HybridlabError) as error:
            setup.load_config_file(name, text.encode())
        assert len(str(error.value)) < LINE


def test_huge_values_are_shown_shortened(capsys):
    code = main([*TRAIN, "--split", "x" * 100_000, "--out", "unused"])
    assert code == 2
    assert len(capsys.readouterr().err) < LINE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children,
                                                                                     max_size=6), max_leaves=40),
       st.sampled_from(["plain", "anchor", "deep", "huge"]))
def test_any_plan_loads_or_fails_in_one_short_line_quickly(value, twist):
    import resource

    import yaml

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB, the process's peak so far

    text = yaml.safe_dump({"model": "respiration", "options": value})
    if twist == "anchor":
        text = "x: &a [1, 2]\ny: *a\n" + text
    elif twist == "deep":
        text = "model: respiration\noptions: " + "{a: " * 500 + "1" + "}" * 500 + "\n"
    elif twist == "huge":
        text = "model: respiration\nseed: " + "9" * 20_000 + "\n"
    start = time.perf_counter()
    try:
        RunPlan.from_text(text, "plan.yaml")
    except HybridlabError as e:
        assert "\n" not in str(e) and len(str(e)) < LINE
    assert time.perf_counter() - start < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak < 200  # no example took 200 MB more


# --- 2 and 3. output folders that would delete work ---------------------------------------------------

def test_out_dot_and_the_folder_being_read_are_refused_before_training(run_folder, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    _refused(capsys, main([*TRAIN, "--out", "."]), "current folder")
    monkeypatch.chdir(run_folder)
    before = sorted(p.name for p in run_folder.iterdir())
    _refused(capsys, main(["train", "--config", ".", "--out", ".", "--quiet"]), "current folder")
    monkeypatch.chdir(tmp_path)
    _refused(capsys, main(["train", "--config", str(run_folder), "--out", str(run_folder), "--quiet"]),
             "being read")
    _refused(capsys, main(["train", "--config", str(run_folder), "--out", str(run_folder / "again"), "--quiet"]),
             "being read")
    assert sorted(p.name for p in run_folder.iterdir()) == before


def test_a_symbolic_link_as_out_is_refused_before_training(tmp_path, capsys):
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    _refused(capsys, main([*TRAIN, "--out", str(tmp_path / "link")]), "symbolic link")
    assert target.is_dir() and not any(target.iterdir())


def test_a_stray_marker_does_not_make_a_folder_hybridlabs(tmp_path, capsys):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "ch1.tex").write_text("text")
    (thesis / ".complete").touch()
    _refused(capsys, main([*TRAIN, "--out", str(thesis)]), "not a hybridlab run")
    assert (thesis / "ch1.tex").read_text() == "text"


def test_a_run_with_a_file_added_is_not_replaced_without_overwrite(copy_of_run, capsys):
    (copy_of_run / "notes.txt").write_text("mine")
    _refused(capsys, main([*TRAIN, "--out", str(copy_of_run)]), "not a hybridlab run")
    assert (copy_of_run / "notes.txt").read_text() == "mine"


def test_overwrite_never_replaces_a_tree_of_folders(tmp_path, capsys):
    project = tmp_path / "project"
    (project / "chapters").mkdir(parents=True)
    (project / "chapters" / "ch1.tex").write_text("text")
    _refused(capsys, main([*TRAIN, "--out", str(project), "--overwrite"]), "never a tree")
    assert (project / "chapters" / "ch1.tex").read_text() == "text"


def test_a_run_folder_is_replaced_and_leftover_partial_folders_go(copy_of_run, capsys):
    leftover = copy_of_run.parent / f".{copy_of_run.name}.partial-killed"
    leftover.mkdir()
    (leftover / "model.pt").write_bytes(b"half")
    assert main([*TRAIN, "--out", str(copy_of_run)]) == 0
    assert not leftover.exists() and (copy_of_run / ".complete").is_file()


# --- 4 and 5. markers that would lie, files that would exhaust memory --------------------------------

def _predict(folder, capsys, *extra):
    frame = load_data("respiration-synthetic", n=30, seed=1).frame
    data = folder.parent / "new.csv"
    frame.to_csv(data, index=False)
    return main(["predict", "--run", str(folder), "--input", str(data), *extra])


@pytest.mark.parametrize("marker", ["", "{}", '{"sha256": {"model.pt": "0"}}', "not json"])
def test_an_empty_or_old_marker_is_refused(copy_of_run, capsys, marker):
    (copy_of_run / ".complete").write_text(marker)
    _refused(capsys, _predict(copy_of_run, capsys), "marker")


def test_swapped_predictors_in_config_are_refused(copy_of_run, capsys):
    config = json.loads((copy_of_run / "config.json").read_text())
    names = config["columns"]["predictors"]
    names[0], names[1] = names[1], names[0]
    (copy_of_run / "config.json").write_text(json.dumps(config))
    _refused(capsys, _predict(copy_of_run, capsys), "config.json", "checksum")


def test_declared_sizes_are_checked_against_the_weights_before_building(copy_of_run, capsys):
    config = json.loads((copy_of_run / "config.json").read_text())
    config["model"]["network"]["hidden"] = [16384] * 32
    (copy_of_run / "config.json").write_text(json.dumps(config))
    _reseal(copy_of_run)
    start = time.perf_counter()
    _refused(capsys, _predict(copy_of_run, capsys), "declares hidden layers")
    assert time.perf_counter() - start < 5


def test_compressed_or_non_finite_weights_are_refused(copy_of_run, capsys):
    model = copy_of_run / "model.pt"
    state = torch.load(model, weights_only=True)
    with zipfile.ZipFile(model) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(model, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, payload in entries:
            archive.writestr(info.filename, payload)
    _reseal(copy_of_run)
    _refused(capsys, _predict(copy_of_run, capsys), "compressed")
    state[next(iter(k for k in state if k.endswith("weight")))].fill_(float("nan"))
    torch.save(state, model)
    _reseal(copy_of_run)
    _refused(capsys, _predict(copy_of_run, capsys), "NaN")


# --- 6. tracebacks where one line belongs ----------------------------------------------------------

def test_errors_of_predict_are_one_line(copy_of_run, tmp_path, capsys):
    (copy_of_run / "metrics.json").write_text("{broken")
    _refused(capsys, _predict(copy_of_run, capsys), "metrics.json")
    (copy_of_run / "metrics.json").unlink()
    _refused(capsys, _predict(copy_of_run, capsys, "--out", str(tmp_path / "nodir" / "x.csv")), "does not exist")
    frame = load_data("respiration-synthetic", n=5, seed=1).frame.astype({"clay": object})
    frame.loc[2, "clay"] = "sandy"
    frame.to_csv(tmp_path / "text.csv", index=False)
    _refused(capsys, main(["predict", "--run", str(copy_of_run), "--input", str(tmp_path / "text.csv")]),
             "'clay'", "row 4")
    row = {c: 1.0 for c in ("moisture", "soil_n", "clay", "elev", "temp")} | {"clay": "x"}
    _refused(capsys, main(["predict", "--run", str(copy_of_run), "--input", json.dumps(row)]), "not a number")


@pytest.mark.parametrize("argv,fragment", [
    ([*TRAIN, "--seed", "4294967296"], "seed"),
    (["train", "--model", "soc", "--n-sites", "100000000", "--epochs", "1", "--quiet"], "number of sites"),
])
def test_settings_beyond_what_the_libraries_take_are_one_line(tmp_path, capsys, argv, fragment):
    _refused(capsys, main([*argv, "--out", str(tmp_path / "r")]), fragment)


def test_an_out_that_cannot_be_written_is_one_line_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    start = time.perf_counter()
    _refused(capsys, main([*TRAIN, "--out", str(blocker / "run")]))
    assert time.perf_counter() - start < 10 and blocker.read_text() == "a file, not a folder"


def test_identify_on_a_damaged_sweep_table_is_one_line(tmp_path, capsys):
    (tmp_path / "sweep.yaml").write_text("base: {model: respiration}\n")
    (tmp_path / "sweep.parquet").write_bytes(b"PAR1 damaged")
    _refused(capsys, main(["identify", str(tmp_path)]), "sweep.parquet")


# --- 7 to 9. columns, sweep sizes ----------------------------------------------------------------------

def test_a_target_that_is_also_the_forcing_is_refused(tmp_path, capsys):
    load_data("respiration-synthetic", n=30, seed=1).frame.to_csv(tmp_path / "d.csv", index=False)
    columns = json.dumps({"id": "site_id", "targets": {"reco": "reco"}, "forcing": {"temp": "reco"}})
    _refused(capsys, main([*TRAIN, "--data", str(tmp_path / "d.csv"), "--columns", columns, "--out",
                           str(tmp_path / "r")]), "also a forcing")


def test_repeated_column_names_are_refused_in_csv_and_parquet(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("site_id,clay,clay,reco,temp\n1,2,3,4,5\n2,3,4,5,6\n")
    columns = json.dumps({"id": "site_id", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"}})
    _refused(capsys, main([*TRAIN, "--data", str(tmp_path / "d.csv"), "--columns", columns, "--out",
                           str(tmp_path / "r")]), "'clay'", "more than once")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array([1, 2]), pa.array([1.0, 2.0]), pa.array([3.0, 4.0])],
                                 names=["site_id", "clay", "clay"])
    pq.write_table(table, tmp_path / "d.parquet")
    _refused(capsys, main([*TRAIN, "--data", str(tmp_path / "d.parquet"), "--columns", columns, "--out",
                           str(tmp_path / "r")]), "more than once")


def test_a_sweep_beyond_max_runs_is_refused_from_its_sizes(tmp_path, capsys):
    start = time.perf_counter()
    _refused(capsys, main(["sweep", "--model", "respiration", "--seeds", "1000000", "--out", str(tmp_path / "s")]),
             "--max-runs")
    _refused(capsys, main(["sweep", "--model", "respiration", "--seeds", "30", "--grid", "lr=0.1,0.01,0.001",
                           "--max-runs", "50", "--out", str(tmp_path / "s")]), "90 runs")
    assert time.perf_counter() - start < 10 and not (tmp_path / "s").exists()


def test_plans_that_hybridlab_writes_load_back_even_with_repeated_values():
    assert load_yaml("model: soc\ntrain: {epochs: 3}\nnetwork: {hidden: [8, 4]}\n", "p")["train"]["epochs"] == 3
    shared = [0.5, 5.0]  # one object twice: PyYAML would write an anchor and an alias for it
    plan = RunPlan(model="respiration", bounds={"rb": shared, "q10": shared})
    assert RunPlan.from_text(plan.to_yaml()).to_dict() == plan.to_dict()


# --- the real command, in its own process: exit 2, one line, never a traceback ----------------------

@pytest.mark.slow
# the in-process tests above hold every case; these four run through the real process as a user would
@pytest.mark.parametrize("case", ["bomb", "out-link", "predict-nodir", "identify-damaged"])
def test_the_installed_command_answers_bad_input_in_one_line(tmp_path, run_folder, case):
    import subprocess
    import sys

    (tmp_path / "bomb.yaml").write_text(_bomb(7))
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "target")
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "sweep.yaml").write_text("base: {model: respiration}\n")
    (tmp_path / "sweep" / "sweep.parquet").write_bytes(b"PAR1 damaged")
    load_data("respiration-synthetic", n=5, seed=1).frame.to_csv(tmp_path / "new.csv", index=False)
    argv = {"bomb": ["train", "--config", "bomb.yaml", "--out", "r"],
            "deep-json": ["train", "--config", "deep.json", "--out", "r"],
            "seed": [*TRAIN, "--seed", "4294967296", "--out", "r"],
            "out-link": [*TRAIN, "--out", "link"],
            "sites": ["train", "--model", "soc", "--n-sites", "100000000", "--out", "r"],
            "max-runs": ["sweep", "--model", "respiration", "--seeds", "1000000", "--out", "s"],
            "predict-nodir": ["predict", "--run", str(run_folder), "--input", "new.csv", "--out", "nodir/x.csv"],
            "identify-damaged": ["identify", "sweep"]}[case]
    result = subprocess.run([sys.executable, "-m", "core", *argv], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines[0]) < LINE and not (tmp_path / "r").exists() and not (tmp_path / "s").exists()
