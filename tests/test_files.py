import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from core.datasets import load_data, load_file
from core.errors import DataError

MAPPING = {"id": "site", "targets": {"reco": "R"}, "forcing": {"temp": "T"}, "predictors": "*"}


@pytest.fixture
def frame():
    d = load_data("respiration-synthetic", n=10, seed=0).frame
    return d.rename(columns={"site_id": "site", "reco": "R", "temp": "T"})


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_csv_and_parquet_load_with_mapping(tmp_path, frame, suffix):
    path = tmp_path / f"resp{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    before = _digest(path)
    data = load_file(path, MAPPING)
    assert data.targets == {"reco": "R"} and data.forcing == {"temp": "T"}
    assert set(data.predictors) == {"day", "moisture", "soil_n", "clay", "elev"}  # no id, target, forcing, truth
    assert set(data.truth_columns()) == {"rb", "q10"}
    assert _digest(path) == before


def test_mapping_from_json_file(tmp_path, frame):
    path = tmp_path / "resp.csv"
    frame.to_csv(path, index=False)
    mp = tmp_path / "map.json"
    mp.write_text(json.dumps({**MAPPING, "predictors": ["moisture", "soil_n"]}))
    assert load_data(str(path), columns=str(mp)).predictors == ["moisture", "soil_n"]


def test_missing_column_names_file_and_column(tmp_path, frame):
    path = tmp_path / "resp.csv"
    frame.drop(columns=["T"]).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"resp\.csv: column\(s\) 'T' not found"):
        load_file(path, MAPPING)


def test_text_in_numeric_column_names_row(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.astype({"moisture": object})
    f.loc[4, "moisture"] = "wet"
    f.to_csv(path, index=False)
    before = _digest(path)
    with pytest.raises(DataError, match=r"resp\.csv: column 'moisture' must be numeric but row 6 holds 'wet'"):
        load_file(path, MAPPING)
    assert _digest(path) == before


def test_infinity_negative_and_missing_forcing_are_reported(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.copy()
    f.loc[2, "clay"] = np.inf
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'clay' has 1 infinite value.*rows 4"):
        load_file(path, MAPPING)
    f = frame.copy()
    f.loc[[0, 7], "R"] = -1.0
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'R' has 2 negative value.*rows 2, 9"):
        load_file(path, MAPPING, nonnegative={"reco"})
    f = frame.copy()
    f.loc[3, "T"] = np.nan
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'T' has 1 missing value.*rows 5; fill or drop them"):
        load_file(path, MAPPING, drop_incomplete=False)


def test_rows_lacking_a_forcing_or_predictor_are_left_out_with_a_note(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.copy()
    f.loc[[3, 5], "T"] = np.nan
    f.loc[[5, 8], "clay"] = np.nan
    f.loc[[0, 1], "R"] = np.nan  # a missing target stays: it is masked in the loss
    f.to_csv(path, index=False)
    data = load_file(path, MAPPING)
    ids = ", ".join(repr(str(i)) for i in dict.fromkeys(f.loc[[3, 5, 8], MAPPING["id"]]))
    assert data.notes == [f"resp.csv: 3 of {len(f)} rows left out of training: missing T (2), clay (2); id(s) {ids}"]
    assert len(data.frame) == len(f) - 3 and data.frame["T"].notna().all() and data.frame["R"].isna().sum() == f["R"].drop([3, 5, 8]).isna().sum()
    assert list(data.frame.index) == list(range(len(f) - 3))  # positions, as splits use them
    assert data.source["drop_incomplete"] is True
    assert load_data(str(path), columns=MAPPING).notes == data.notes
    with pytest.raises(DataError, match="column 'T' has 2 missing value"):
        load_data(str(path), columns=MAPPING, drop_incomplete=False)


def test_too_few_complete_rows_are_refused_naming_the_columns(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.copy()
    f.loc[f.index[4:], "T"] = np.nan
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"resp\.csv: only 4 of \d+ rows have every forcing and predictor value "
                                        r"\(missing T \(\d+\)\)"):
        load_file(path, MAPPING)


def test_with_star_a_column_missing_in_most_rows_is_not_a_predictor(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.copy()
    f.loc[f.index[: int(len(f) * 0.6)], "elev"] = np.nan
    f.loc[f.index[-1], "clay"] = np.nan
    f.to_csv(path, index=False)
    data = load_file(path, MAPPING)
    assert "elev" not in data.predictors and "clay" in data.predictors and len(data.frame) == len(f) - 1
    assert data.notes[0].startswith(f"resp.csv: column(s) elev ({int(len(f) * 0.6)} of {len(f)} missing) not taken as "
                                    "predictors: missing in more than half of the rows")
    assert data.notes[1] == (f"resp.csv: 1 of {len(f)} rows left out of training: missing clay (1); "
                             f"id(s) {str(f[MAPPING['id']].iloc[-1])!r}")
    named = load_file(path, {**MAPPING, "predictors": ["elev", "clay"]})  # named: used, its rows left out
    assert named.predictors == ["elev", "clay"] and len(named.frame) == len(f) - int(len(f) * 0.6) - 1


def test_the_drop_policy_round_trips_through_the_plan(tmp_path, frame):
    from core.run.plan import RunPlan

    source = {"path": str(tmp_path / "resp.csv"), "columns": MAPPING}
    plan = RunPlan(model="respiration", data={**source, "drop_incomplete": False})
    again = RunPlan.from_text(plan.to_yaml())
    assert again.data.drop_incomplete is False and RunPlan(model="respiration", data=source).data.drop_incomplete
    assert RunPlan(model="respiration").data.to_dict().get("drop_incomplete") is None  # built-in: no gaps


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_file(tmp_path / "nothing.csv", MAPPING)
    p = tmp_path / "data.xlsx"
    p.write_text("x")
    with pytest.raises(DataError, match="unknown file type '.xlsx'"):
        load_file(p, MAPPING)


def test_committed_samples_match_the_generators():
    from pathlib import Path

    from core.datasets import sources
    root = Path(__file__).resolve().parents[1] / "data"
    samples = [s for s in sources("builtin") if s.sample_sites]
    assert [s.name for s in samples] == ["respiration-synthetic", "lucas-synthetic", "swrc-synthetic"]
    for spec in samples:
        committed = pd.read_csv(root / f"{spec.name}-sample.csv")
        fresh = spec.load(n=spec.sample_sites, seed=0).frame
        pd.testing.assert_frame_equal(committed, fresh, check_dtype=False, rtol=1e-12)
