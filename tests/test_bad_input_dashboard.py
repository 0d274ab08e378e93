"""Bad and hostile input through the dashboard's state (no browser): uploads, column maps, settings,
config imports and the server's limits. Each ends in one line in the page's state; nothing trains
past a limit, and a refused import leaves the form as it was."""
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import pytest

from app.limits import ServerLimits
from app.training.pool import TrainingPool
from app.training.runners import ThreadRunner
from app.state.runs import RunTable
from app.state.session import TrainingSession
from app.state.setup import Setup
from app.ui.sidebar import BoundedFileDropper
from app.ui.tabs import kge_text
from core import HybridlabError, load_data

RESP_MAP = {"id": "site_id", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"},
            "predictors": ["moisture", "soil_n"]}


@pytest.fixture(scope="module")
def fluxes():
    return load_data("respiration-synthetic", n=12, seed=3).frame


def _csv_bytes(frame):
    return frame.to_csv(index=False).encode()


def _upload_files():
    """The upload copies in the temporary folder (a test's own: other workers upload at the same time)."""
    return sorted(Path(tempfile.gettempdir()).glob("hybridlab-upload-*"))


def _form(setup):
    return {k: v for k, v in setup.param.values().items() if k not in ("name", "errors", "upload", "limits")}


# --- uploads: checked against the limits before the table is decoded ------------------------------

@pytest.mark.parametrize("limits,message", [
    ({"upload_mb": 0.01}, "MB is over this server's limit of 0.01 MB"),
    ({"rows": 100}, "480 rows is over this server's limit of 100 rows"),
    ({"columns": 5}, "columns is over this server's limit of 5 columns"),
    pytest.param({"decoded_mb": 1}, "MB in memory is over this server's limit of 1 MB in memory",
                 marks=pytest.mark.slow),  # decodes a large table: seconds
])
def test_uploads_over_a_limit_are_refused_and_leave_no_file(fluxes, limits, message, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = _upload_files()
    setup = Setup(model_name="respiration", limits=ServerLimits(**limits))
    content = _csv_bytes(pd.concat([fluxes] * (1 if "decoded_mb" not in limits else 300)))
    assert setup.upload.read("fluxes.csv", content) is None
    assert setup.upload.error.startswith("fluxes.csv: ") and message in setup.upload.error
    assert _upload_files() == before and setup.upload.path is None
    accepted = Setup(model_name="respiration").upload  # within the limits, the copy goes where we look
    assert accepted.read("fluxes.csv", _csv_bytes(fluxes)) is not None and _upload_files() == [accepted.path]
    accepted.discard()


def test_a_small_parquet_that_decodes_large_is_refused_from_its_footer(tmp_path):
    frame = pd.DataFrame({"site": np.zeros(2_000_000, dtype=np.int64), "x": np.ones(2_000_000)})
    frame.to_parquet(tmp_path / "flat.parquet")
    content = (tmp_path / "flat.parquet").read_bytes()
    assert len(content) < 200_000  # tiny on disk, 32 MB decoded
    setup = Setup(limits=ServerLimits(decoded_mb=20, rows=10_000_000))
    assert setup.upload.read("flat.parquet", content) is None
    assert "32 MB in memory is over this server's limit of 20 MB in memory" in setup.upload.error


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", b"site_id,reco,temp\n", "no data rows"),
    ("nothing.csv", b"", "cannot be read as CSV"),
    ("latin.csv", "site,réco\n1,2\n".encode("latin-1"), "latin.csv"),
    ("table.xlsx", b"PK\x03\x04", "unknown file type '.xlsx'"),
    ("broken.parquet", b"PAR1 not really", "cannot be read as PARQUET"),
])
def test_unreadable_uploads_are_named(name, content, message):
    setup = Setup(model_name="respiration")
    frame = setup.upload.read(name, content)
    assert (frame is None and message in setup.upload.error) or (frame is not None and name == "latin.csv")
    text = setup.upload.error + setup.upload.message
    assert "Traceback" not in text and "hybridlab-upload-" not in text


@pytest.mark.parametrize("change,mapping,message", [
    (lambda f: f, {**RESP_MAP, "predictors": ["moisture", "reco"]}, "target column 'reco' (reco) is also a predictor"),
    (lambda f: f.assign(reco=2.5), RESP_MAP, "target column 'reco' (reco) is constant (2.5"),
    (lambda f: f.assign(temp=np.where(np.arange(len(f)) == 4, 1e300, f["temp"])), RESP_MAP, "beyond ±3.4e+38"),
])
def test_mappings_that_do_not_load_an_upload_are_named_and_block_training(fluxes, change, mapping, message):
    setup = Setup(model_name="respiration")
    assert setup.upload.read("fluxes.csv", _csv_bytes(change(fluxes.copy()))) is not None
    assert setup.upload.use_mapping(mapping)  # the form shows the mapping; the file does not load with it
    assert setup.upload.error.startswith("fluxes.csv: ") and message in setup.upload.error
    assert setup.upload.data is None and setup.data_name == "uploaded: fluxes.csv" and not setup.can_train
    assert setup.errors == [setup.upload.error]


@pytest.mark.parametrize("mapping,message", [
    ({**RESP_MAP, "id": ["site_id"]}, "column(s) ['site_id'] (id) not in the file"),
    ({**RESP_MAP, "targets": {"reco": 3}}, "column(s) 3 (target reco) not in the file"),
    ({**RESP_MAP, "targets": ["reco"]}, "'targets' must map model names to column names"),
    ({**RESP_MAP, "predictors": "all"}, "'predictors' must be a list of column names or \"*\""),
    ({**RESP_MAP, "extra": 1}, "unknown key(s) extra"),
])
def test_malformed_column_maps_are_refused_and_leave_the_form_as_it_was(fluxes, mapping, message):
    setup = Setup(model_name="respiration")
    assert setup.upload.read("fluxes.csv", _csv_bytes(fluxes)) is not None
    form = setup.upload.mapping.to_dict()
    assert not setup.upload.use_mapping(mapping, "map.json")
    assert setup.upload.map_error.startswith("map.json for fluxes.csv: ") and message in setup.upload.map_error
    assert setup.upload.mapping.to_dict() == form and setup.can_train


def test_too_many_sites_in_an_upload(fluxes):
    setup = Setup(model_name="respiration", limits=ServerLimits(sites=20))
    many = fluxes.assign(site_id=np.arange(len(fluxes)))
    assert setup.upload.read("fluxes.csv", _csv_bytes(many)) is not None
    assert setup.upload.use_mapping(RESP_MAP) and not setup.can_train
    assert "480 sites (distinct ids) is over this server's limit of 20" in setup.upload.error


def test_a_chunked_upload_beyond_the_limit_is_dropped_on_the_server():
    """A client that skips the browser's size check: the server stops keeping its chunks."""
    from panel.models.file_dropper import UploadEvent

    pn.extension("filedropper")
    dropper = BoundedFileDropper(max_bytes=10, chunk_size=6)
    model = dropper.get_root()
    for chunk, data in enumerate([b"site,x\n", b"1,2\n3,4\n", b"5,6\n"], 1):
        dropper._process_event(UploadEvent(model=model, data={"name": "x.csv", "chunk": chunk, "total_chunks": 3,
                                                              "data": data, "type": "text/csv"}))
    assert dropper.value == {} and dropper.refused == "x.csv: over this server's limit of 1e-05 MB"


# --- settings and imported configurations -----------------------------------------------------------

@pytest.mark.parametrize("settings,message", [
    ({"epochs": 6000}, "max epochs 6000 is over this server's limit of 5000"),
    ({"hidden": "2048,64"}, "have 2112 units, over this server's limit of 2048"),
    ({"n_sites": 200_000}, "200000 sites is over this server's limit of 100000"),
    ({"data_name": "lucas-synthetic", "n_sites": None}, "16743 sites is over this server's limit of 1000"),
])
def test_settings_over_a_limit_block_training(settings, message):
    limits = ServerLimits(sites=1000) if "n_sites" in settings and settings["n_sites"] is None else ServerLimits()
    setup = Setup(limits=limits, n_sites=300)
    setup.param.update(**settings)
    assert any(message in e for e in setup.errors), setup.errors
    session = TrainingSession()
    assert not session.start(setup) and session.status == "error" and message in session.message


@pytest.mark.parametrize("filename,content,message", [
    ("config.json", b"{not json", "invalid JSON"),
    ("config.json", json.dumps({"model": "respiration", "train": {"epochs": 10**9}}).encode(), "over this server's limit"),
    ("config.json", json.dumps({"model": "soc", "data": {"name": "lucas-synthetic", "n": 10**9}}).encode(),
     "at most 2000000"),
    ("config.json", json.dumps({"model": "soc", "network": {"hidden": [4096, 4096]}}).encode(), "8192 units"),
    ("plan.yaml", b"model: respiration\nroles: {rb: sideways}\n", "sideways"),
    ("plan.yaml", b"model: os:system\n", "os:system"),
    ("plan.yaml", b"model: respiration\nbounds: {q10: [5, 1]}\n", "q10"),
    ("plan.yaml", b"- just\n- a list\n", "plan.yaml"),
    ("config.json", json.dumps({"model": "respiration", "train": {"feasibility_weight": "nan"}}).encode(),
     "feasibility_weight"),
])
def test_a_refused_import_leaves_the_whole_form_as_it_was(filename, content, message):
    setup = Setup(model_name="soc", epochs=321, hidden="64,32")
    setup.row("q_max").role = "neural"
    form, roles = _form(setup), setup.roles
    with pytest.raises(HybridlabError, match=None) as caught:
        setup.load_config_file(filename, content)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert _form(setup) == form and setup.roles == roles


# --- html in user text is escaped ---------------------------------------------------------------------

def test_user_text_reaches_html_panes_escaped():
    from types import SimpleNamespace

    from app.ui.page import status_text

    snapshot = SimpleNamespace(epoch=3, targets={"<img src=x onerror=alert(1)>": {"val": {"kge": 0.5}}})
    assert "<img" not in kge_text(snapshot) and "&lt;img" in kge_text(snapshot)
    session = TrainingSession()
    text = status_text(session, "error", 0, None, 0, None, "cannot train: <script>alert(1)</script>")
    assert "<script>" not in text and "&lt;script&gt;" in text


# --- limits of the server: trainings at once, runs kept, the variables that set them ---------------------

def test_one_user_gets_one_training_at_once_across_tabs():
    pool = TrainingPool(ThreadRunner(4), ServerLimits(trainings=4))
    tab_a, tab_b = TrainingSession(pool=pool, owner="user-ana"), TrainingSession(pool=pool, owner="user-ana")
    setup = Setup(model_name="respiration", n_sites=20, epochs=3)
    assert tab_a.start(setup) and not tab_b.start(setup)
    assert "you already have 1 training(s) running or queued" in tab_b.message
    assert tab_a.join(60)
    pool.close()


def test_a_session_keeps_only_the_last_runs():
    table = RunTable(keep=2)
    runs = []
    for seed in range(3):
        setup = Setup(model_name="respiration", n_sites=20, epochs=2, seed=seed)
        session = TrainingSession()
        assert session.start(setup)
        session.join(60)
        session.sync()
        runs.append(session.run)
        table.add(session.run, session.label)
    assert [r["run"] for r in table.records] == runs[1:] and table.dropped == 1
    assert [r["label"][:2] for r in table.records] == ["#2", "#3"]
    table.clear()
    assert table.records == []


@pytest.mark.parametrize("variable,value,message", [
    ("HYBRIDLAB_MAX_EPOCHS", "many", "must be a whole number of at least 1"),
    ("HYBRIDLAB_MAX_UPLOAD_MB", "nan", "must be a number of at least 0.01"),
    ("HYBRIDLAB_MAX_SITES", "5", "must be a whole number of at least 20"),
    ("HYBRIDLAB_MAX_TRAININGS", "1.5", "must be a whole number"),
])
def test_bad_limit_variables_are_named(variable, value, message):
    with pytest.raises(HybridlabError) as caught:
        ServerLimits.from_environment({variable: value})
    assert str(caught.value).startswith(f"{variable}={value!r}: {message}")


def test_limit_variables_are_read():
    limits = ServerLimits.from_environment({"HYBRIDLAB_MAX_EPOCHS": "70", "HYBRIDLAB_MAX_UPLOAD_MB": "2.5"})
    assert limits.epochs == 70 and limits.upload_mb == 2.5 and "at most 2.5 MB" in limits.upload_text()
    assert ServerLimits.from_environment(limits.environment()).environment() == limits.environment()


@pytest.mark.parametrize("args,message", [
    (["--max-epochs", "0"], "--max-epochs 0: must be at least 1"),
    (["--max-upload-mb", "-3"], "--max-upload-mb -3.0: must be at least 0.01"),
    (["--max-sites", "many"], "argument --max-sites: invalid int value: 'many'"),
])
def test_bad_serve_flags_give_one_line_and_exit_2(capsys, args, message):
    from core.cli import main

    try:
        code = main(["serve", *args])
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err


def test_serve_passes_the_limits_and_a_websocket_cap_that_fits_one_upload_chunk(monkeypatch):
    from app.limits import UPLOAD_CHUNK_BYTES
    from app.serve import panel_command, server_environment
    from core.cli import build_parser

    monkeypatch.setenv("HYBRIDLAB_MAX_EPOCHS", "700")
    args = build_parser().parse_args(["serve", "--max-trainings", "3", "--", "--basic-auth", "users.json"])
    environment = server_environment(args)
    assert environment["HYBRIDLAB_MAX_TRAININGS"] == "3" and environment["HYBRIDLAB_MAX_EPOCHS"] == "700"
    command = panel_command(args)
    cap = int(command[command.index("--websocket-max-message-size") + 1])
    assert UPLOAD_CHUNK_BYTES * 4 / 3 < cap < 20 * 2**20  # one chunk in base64 fits; below Bokeh's default
    assert command[-2:] == ["--basic-auth", "users.json"]
