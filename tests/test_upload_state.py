"""An uploaded file through the dashboard's state (no browser): once read, the data selector names it
and a training uses it with the mapping the form shows; a mapping that does not load blocks Train
with the reason; a column map file fills the form; built-in data can be chosen again."""
import io
import json
import time

import pandas as pd
import pytest

import core
from app.state.runs import RunTable
from app.state.session import TrainingSession
from app.state.setup import Setup
from app.ui.page import status_text

FLUX_MAP = {"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "T"}, "predictors": ["moisture", "soil_n"]}


@pytest.fixture(scope="module")
def fluxes():
    """12 sites of 40 days, with columns not named like the model's variables (R, T)."""
    return core.load_data("respiration-synthetic", n=12, seed=3).frame.rename(columns={"reco": "R", "temp": "T"})


def _csv(frame) -> bytes:
    return frame.to_csv(index=False).encode()


def _parquet(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _uploaded(frame, name="fluxes.csv", model="respiration"):
    setup = Setup(model_name=model)
    assert setup.upload.read(name, _parquet(frame) if name.endswith((".parquet", ".pq")) else _csv(frame)) is not None
    return setup


def test_an_upload_is_named_in_the_data_selector_and_blocks_train_until_its_columns_are_mapped(fluxes):
    setup = _uploaded(fluxes)
    assert setup.data_name == "uploaded: fluxes.csv" and "uploaded: fluxes.csv" in setup.param.data_name.objects
    # the target is named R in the file: nothing is mapped to reco, so Train is blocked with why
    assert setup.upload.data is None and not setup.can_train
    assert setup.errors == [setup.upload.error] and setup.upload.error.startswith("fluxes.csv: ")
    assert "'targets' must map at least one model target" in setup.upload.error
    with pytest.raises(core.HybridlabError, match="fluxes.csv"):
        setup.plan()


def test_the_plan_trains_the_file_with_the_mapping_the_form_shows(fluxes):
    setup = _uploaded(fluxes)
    mapping = setup.upload.mapping
    assert mapping.id_column == "site_id"  # recognised by name
    choice = {c.variable: c for c in mapping.choices}
    choice["reco"].column, choice["temp"].column = "R", "T"  # each change loads the file again
    assert setup.can_train and setup.errors == []
    plan = setup.plan()
    assert plan.data.path == str(setup.upload.path) and plan.data.name is None
    assert plan.data.columns == {"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "T"}, "predictors": "*"}
    mapping.predictors = ["moisture", "clay"]
    assert setup.plan().data.columns["predictors"] == ["moisture", "clay"]
    assert "Train uses 480 rows of 12 sites; targets reco; 2 predictor(s) (moisture, clay)" == setup.upload.loaded


def test_a_mapping_that_does_not_load_names_file_column_and_value_and_blocks_train(fluxes):
    text = fluxes.assign(R=fluxes["R"].astype(object))
    text.loc[7, "R"] = "n.d."
    setup = _uploaded(text, "bad.csv")
    assert setup.upload.use_mapping(FLUX_MAP, "fluxes.columns.json")  # the form takes the map; the file fails
    error = setup.upload.error
    assert error.startswith("bad.csv: ") and "'R'" in error and "row 9 holds 'n.d.'" in error and "\n" not in error
    assert "hybridlab-upload-" not in error and setup.errors == [error] and not setup.can_train
    assert setup.data_name == "uploaded: bad.csv"  # the selector keeps naming the file: nothing else trains
    {c.variable: c for c in setup.upload.mapping.choices}["reco"].column = "clay"
    assert setup.can_train and setup.upload.error == ""


def test_a_columns_json_fills_the_form_and_one_naming_other_columns_is_refused_whole(fluxes):
    setup = _uploaded(fluxes, "fluxes.parquet")
    content = json.dumps({**FLUX_MAP, "units": {"R": "g C m-2 d-1"}}).encode()
    assert setup.upload.load_map_file("fluxes.columns.json", content)
    mapping = setup.upload.mapping
    assert mapping.to_dict() == FLUX_MAP and setup.upload.map_file == "fluxes.columns.json"
    assert setup.can_train and setup.plan().data.columns == FLUX_MAP
    other = json.dumps({"id": "point_id", "targets": {"reco": "R"}, "predictors": ["moisture", "ph"]}).encode()
    assert not setup.upload.load_map_file("lucas.columns.json", other)
    assert setup.upload.map_error == ("lucas.columns.json for fluxes.parquet: column(s) 'point_id' (id), 'ph' "
                                      "(predictor) not in the file")
    assert mapping.to_dict() == FLUX_MAP and setup.can_train  # the form as it was
    assert not setup.upload.load_map_file("broken.columns.json", b"{not json")
    assert setup.upload.map_error.startswith("broken.columns.json") and "JSON" in setup.upload.map_error
    assert not setup.upload.load_map_file("list.json", b"[1, 2]")
    assert "must be a JSON object" in setup.upload.map_error


def test_a_column_map_before_its_table_fills_the_form_when_the_table_comes(fluxes):
    setup = Setup(model_name="respiration")
    assert setup.upload.load_map_file("fluxes.columns.json", json.dumps(FLUX_MAP).encode())
    assert setup.data_name == "respiration-synthetic"  # nothing to train on yet
    assert setup.upload.read("fluxes.csv", _csv(fluxes)) is not None
    assert setup.upload.mapping.to_dict() == FLUX_MAP and setup.can_train


def test_built_in_data_can_be_chosen_again_and_the_upload_after_it(fluxes):
    setup = _uploaded(fluxes)
    setup.upload.use_mapping(FLUX_MAP)
    setup.data_name = "respiration-synthetic"
    plan = setup.plan()
    assert plan.data.name == "respiration-synthetic" and plan.data.path is None
    setup.model_name = "soc"  # built-in data follow the model; the upload stays offered
    assert setup.data_name == "lucas-synthetic" and "uploaded: fluxes.csv" in setup.param.data_name.objects
    setup.data_name = "uploaded: fluxes.csv"
    assert not setup.can_train and "'targets' must map at least one model target" in setup.errors[0]
    setup.model_name = "respiration"  # the form maps the model's variables again
    assert setup.data_name == "uploaded: fluxes.csv" and setup.can_train
    setup.upload.discard()
    assert setup.data_name == "respiration-synthetic" and "uploaded: fluxes.csv" not in setup.param.data_name.objects


def test_each_form_offers_only_its_own_upload(fluxes):
    a, b = _uploaded(fluxes, "a.csv"), Setup(model_name="respiration")
    assert "uploaded: a.csv" in a.param.data_name.objects
    assert not any(o.startswith("uploaded") for o in b.param.data_name.objects)


def test_the_notes_of_a_load_name_the_uploaded_file(fluxes):
    gappy = fluxes.copy()
    gappy.loc[gappy.index[:5], "moisture"] = float("nan")
    setup = _uploaded(gappy, "gappy.csv")
    setup.upload.use_mapping(FLUX_MAP)
    notes = setup.upload.notes
    assert setup.can_train and len(setup.upload.data.frame) == 475
    assert any(n.startswith("gappy.csv: ") and "5 of 480 rows left out" in n for n in notes), notes
    assert not any("hybridlab-upload-" in n for n in notes)


def test_a_file_that_cannot_be_read_is_still_the_data_chosen_so_train_says_why(fluxes):
    setup = _uploaded(fluxes)
    kept = setup.upload.path
    assert setup.upload.read("notes.xlsx", b"PK\x03\x04") is None
    assert setup.upload.error == "notes.xlsx: unknown file type '.xlsx'; use .csv or .parquet"
    assert not kept.exists() and setup.upload.path is None  # the earlier file is gone
    assert setup.data_name == "uploaded: notes.xlsx" and setup.errors == [setup.upload.error] and not setup.can_train
    setup.upload.refuse("huge.csv", "huge.csv: over this server's limit of 50 MB")
    assert setup.data_name == "uploaded: huge.csv" and setup.errors == ["huge.csv: over this server's limit of 50 MB"]
    setup.data_name = "respiration-synthetic"
    assert setup.can_train


def _train(setup, session):
    assert session.start(setup), session.message
    end = time.time() + 120
    while (session.running or session.status not in ("finished", "error")) and time.time() < end:
        session.sync()
        time.sleep(0.05)
    session.sync()
    assert session.status == "finished", session.message


def test_a_run_on_the_upload_is_named_after_the_file_in_the_status_and_the_comparison(fluxes):
    setup = _uploaded(fluxes.query("site_id < 9"))
    setup.upload.use_mapping(FLUX_MAP)
    setup.param.update(epochs=2, patience=2)
    session, runs = TrainingSession(), RunTable()
    _train(setup, session)
    assert session.data_label == "fluxes.csv (9 sites)" and session.run.data.frame["site_id"].nunique() == 9
    assert "data <span class='data-label'>fluxes.csv (9 sites)</span>" in status_text(
        session, "finished", 2, 0.5, 1, 0, "", data_label=session.data_label)
    runs.add(session.run, session.label, session.data_name)
    setup.data_name = "respiration-synthetic"
    setup.n_sites = 20
    _train(setup, session)
    assert session.data_label == "respiration-synthetic (20 sites)"
    runs.add(session.run, session.label, session.data_name)
    assert list(runs.table()["data"]) == ["fluxes.csv (9 sites)", "respiration-synthetic (20 sites)"]
    assert status_text(session, "idle", 0, None, 0, None, "", data_label="x.csv") == "<span class='status'>idle</span>"


def test_the_form_proposes_columns_named_like_a_variable_in_any_case_or_by_a_known_alias(fluxes):
    """A data lucas table (OC, MAT, NPP) and a FLUXNET file (RECO_NT_VUT_REF, TA_F) fill the form
    by themselves: names are compared without case, and each model lists the aliases it knows."""
    lucas = core.load_data("lucas-synthetic", n=60).frame.rename(columns={"soc": "OC", "temp": "MAT", "npp": "NPP"})
    setup = _uploaded(lucas, "lucas.parquet", model="soc")
    chosen = {c.variable: c.column for c in setup.upload.mapping.choices}
    assert (chosen["soc"], chosen["temp"], chosen["npp"]) == ("OC", "MAT", "NPP")
    assert setup.can_train, setup.errors
    flux = fluxes.rename(columns={"R": "RECO_NT_VUT_REF", "T": "TA_F"})
    chosen = {c.variable: c.column for c in _uploaded(flux, "flux.csv").upload.mapping.choices}
    assert chosen == {"reco": "RECO_NT_VUT_REF", "temp": "TA_F"}
    assert core.get_model("respiration").column_for("temp", ["T", "x"]) is None  # a bare T is not guessed
