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
    with pytest.raises(DataError, match=r"resp\.csv: column 'moisture' must be numeric but row 5 holds 'wet'"):
        load_file(path, MAPPING)
    assert _digest(path) == before


def test_infinity_negative_and_missing_forcing_are_reported(tmp_path, frame):
    path = tmp_path / "resp.csv"
    f = frame.copy()
    f.loc[2, "clay"] = np.inf
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'clay' has 1 infinite value.*rows 3"):
        load_file(path, MAPPING)
    f = frame.copy()
    f.loc[[0, 7], "R"] = -1.0
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'R' has 2 negative value.*rows 1, 8"):
        load_file(path, MAPPING, nonnegative={"reco"})
    f = frame.copy()
    f.loc[3, "T"] = np.nan
    f.to_csv(path, index=False)
    with pytest.raises(DataError, match="column 'T' has 1 missing value"):
        load_file(path, MAPPING)


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_file(tmp_path / "nothing.csv", MAPPING)
    p = tmp_path / "data.xlsx"
    p.write_text("x")
    with pytest.raises(DataError, match="unknown file type '.xlsx'"):
        load_file(p, MAPPING)


def test_committed_samples_match_the_generators():
    from pathlib import Path

    from core.datasets import BUILTIN, SAMPLE_SITES
    root = Path(__file__).resolve().parents[1] / "data"
    for name, n in SAMPLE_SITES.items():
        committed = pd.read_csv(root / f"{name}-sample.csv")
        fresh = BUILTIN[name](n=n, seed=0).frame
        pd.testing.assert_frame_equal(committed, fresh, check_dtype=False, rtol=1e-12)
