"""hybridlab data fluxnet: small files of our own in the three layouts (FLUXNET2015 FULLSET, ICOS,
REddyProc text), read into the night-time respiration table and checked against tables worked
out by hand; the filters' counts; potential radiation and the u* estimate on cases with a known
answer; bad input one line, exit 2, the input unchanged."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.datasets import load_file
from core.datasets.surveys.flux_filters import FluxOptions
from core.datasets.surveys.flux_time import potential_radiation
from core.datasets.surveys.flux_ustar import estimate_threshold
from core.datasets.surveys.fluxnet import assemble_fluxnet

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "real" / "FR-Pue_2014_FLUXNET2015_subset.csv"
#: night records of the FLUXNET file below that a filter removes (start time -> the change)
SPECIAL = {"201401010200": ("NEE_VUT_REF", "-9999"), "201401010300": ("NEE_VUT_REF_QC", "2"),
           "201401010400": ("USTAR", "0.05"), "201401022000": ("NEE_VUT_REF", "-0.3"),
           "201401022100": ("TA_F", "-9999"), "201401030100": ("VPD_F", "n/a!")}
#: air temperature of each noon-to-noon block (the night's date)
BLOCK_TEMP = {"2013-12-31": 5.0, "2014-01-01": 10.0, "2014-01-02": 14.0, "2014-01-03": 20.0}


def _fluxnet_rows() -> list[dict]:
    """Three days, hourly: night 18-06 h, day radiation 100 x the day's number, NEE 2 + row/100."""
    rows = []
    for i, start in enumerate(pd.date_range("2014-01-01 00:00", periods=72, freq="h")):
        night = start.hour < 6 or start.hour >= 18
        block = (start + pd.Timedelta(minutes=30) - pd.Timedelta(hours=12)).strftime("%Y-%m-%d")
        row = {"TIMESTAMP_START": start.strftime("%Y%m%d%H%M"),
               "TIMESTAMP_END": (start + pd.Timedelta(hours=1)).strftime("%Y%m%d%H%M"),
               "TA_F": f"{BLOCK_TEMP[block]:g}", "TS_F_MDS_1": f"{BLOCK_TEMP[block] - 2:g}",
               "SW_IN_F": "0" if night else f"{100 * (start.day):g}", "VPD_F": "2", "USTAR": "0.4",
               "SWC_F_MDS_1": "-9999", "NIGHT": "1" if night else "0",
               "NEE_VUT_REF": f"{2 + i / 100:g}" if night else "-5", "NEE_VUT_REF_QC": "0",
               "RECO_NT_VUT_REF": "1.5"}
        if row["TIMESTAMP_START"] in SPECIAL:
            column, value = SPECIAL[row["TIMESTAMP_START"]]
            row[column] = value
        rows.append(row)
    return rows


@pytest.fixture
def fluxnet_file(tmp_path):
    path = tmp_path / "FLX_XX-Tst_FLUXNET2015_FULLSET_HH_2014-2014.csv"
    pd.DataFrame(_fluxnet_rows()).to_csv(path, index=False)
    return path


def _expected_fluxnet() -> pd.DataFrame:
    """The night records kept, worked out from the rules: every night hour but the five removed."""
    removed = {"201401010200", "201401010300", "201401010400", "201401022000", "201401022100"}
    sw_prev = {"2014-01-01": 50.0, "2014-01-02": 75.0, "2014-01-03": 125.0}  # (6 x 100 + 6 x 200) / 24, ...
    temp_prev = {"2014-01-01": 5.0, "2014-01-02": 10.0, "2014-01-03": 14.0}
    rows = []
    for i, start in enumerate(pd.date_range("2014-01-01 00:00", periods=72, freq="h")):
        if not (start.hour < 6 or start.hour >= 18) or start.strftime("%Y%m%d%H%M") in removed:
            continue
        mid = start + pd.Timedelta(minutes=30)
        block = (mid - pd.Timedelta(hours=12)).strftime("%Y-%m-%d")
        angle = 2 * np.pi * pd.Timestamp(block).day_of_year / 365.25
        rows.append({"time": mid, "block": block, "site": "XX-Tst", "reco": 2 + i / 100, "temp": BLOCK_TEMP[block],
                     "vpd": np.nan if start.strftime("%Y%m%d%H%M") == "201401030100" else 2.0,
                     "doy_sin": np.sin(angle), "doy_cos": np.cos(angle),
                     "temp_prev_day": temp_prev.get(block, np.nan), "sw_in_prev_day": sw_prev.get(block, np.nan)})
    return pd.DataFrame(rows)


def test_fluxnet2015_file_gives_the_table_worked_out_by_hand(fluxnet_file):
    assembled = assemble_fluxnet(fluxnet_file, FluxOptions(ustar_threshold=0.1, blocks="day"))
    expected = _expected_fluxnet()
    table = assembled.table
    pd.testing.assert_frame_equal(table[list(expected.columns)].reset_index(drop=True), expected,
                                  check_dtype=False)
    assert set(table["ts"]) == {t - 2 for t in BLOCK_TEMP.values()} and (table["reco_network"] == 1.5).all()
    report = "\n".join(assembled.report)
    for count in ("day, or night not known: 36", "NEE missing: 1", "quality flag failed or missing: 1",
                  "u* below the threshold or missing: 1", "forcing temperature TA_F missing: 1",
                  "NEE below zero (the model's reco cannot be negative): 1", "31 night records kept"):
        assert count in report
    assert "SWC_F_MDS_1 72" in report  # -9999 counted per column
    line = 51  # 2014-01-03 01:00 is the 50th record: line 51 under the header
    assert f"column VPD_F, row {line}: 'n/a!' is not a number" in report
    assert assembled.columns == {
        "id": "block", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"},
        "predictors": ["vpd", "doy_sin", "doy_cos", "temp_prev_day", "sw_in_prev_day"],
        "units": assembled.columns["units"]}
    assert assembled.columns["units"]["reco"].startswith("umol CO2 m-2 s-1")


def test_week_blocks_and_the_cli_write_a_table_that_trains(fluxnet_file, tmp_path, capsys):
    out = tmp_path / "night.parquet"
    before = fluxnet_file.read_bytes()
    assert main(["data", "fluxnet", str(fluxnet_file), "--out", str(out), "--ustar-threshold", "0.1"]) == 0
    assert "31 night records kept" in capsys.readouterr().out
    assert fluxnet_file.read_bytes() == before
    table = pd.read_parquet(out)
    assert set(table["block"]) == {"2014-W01"}  # 31 Dec 2013 to 3 Jan 2014 lie in ISO week 1 of 2014
    columns = json.loads(out.with_suffix(".columns.json").read_text())
    data = load_file(out, columns, nonnegative={"reco"})
    assert data.targets == {"reco": "reco"} and "temp_prev_day" in data.predictors
    assert out.with_suffix(".report.md").read_text().startswith("# hybridlab data fluxnet\n")
    assert main(["data", "fluxnet", str(fluxnet_file), "--out", str(out), "--ustar-threshold", "0.1",
                 "--overwrite"]) == 0  # its own outputs may be replaced


def _icos_file(tmp_path) -> Path:
    text = """TIMESTAMP_START,TIMESTAMP_END,FC,SC,FC_SSITC_TEST,TA_1_1_1,TS_2_1_1,TS_1_1_1,SW_IN_1_1_1,SWC_1_1_1,USTAR
201406010000,201406010030,3.0,0.5,0,15.0,13.0,12.0,0,25,0.3
201406010030,201406010100,2.5,-9999,0,15.0,13.0,12.0,0,25,0.3
201406010100,201406010130,2.0,0.2,2,14.0,13.0,11.5,0,26,0.3
201406010130,201406010200,2.8,0.1,1,14.0,13.0,11.5,2,26,0.3
201406010200,201406010230,1.0,0.0,0,13.0,12.0,11.0,60,27,0.3
201406010230,201406010300,2.2,0.3,0,13.0,12.0,11.0,5,27,0.3
"""
    path = tmp_path / "ICOS_XX-Ico_2014.csv"
    path.write_text(text)
    return path


def test_icos_layout_nee_from_fc_and_storage_soil_temperature_and_sw_night(tmp_path):
    assembled = assemble_fluxnet(_icos_file(tmp_path), FluxOptions(temperature="soil", ustar_threshold=0))
    table = assembled.table
    # kept: 00:00 (3.0 + 0.5), 01:30 (2.8 + 0.1, SSITC 1 kept), 02:30 (2.2 + 0.3); 00:30 lacks SC, 01:00 SSITC 2,
    # 02:00 day (SW_IN 60 >= 10)
    assert table["reco"].round(6).tolist() == [3.5, 2.9, 2.5]
    assert table["temp"].tolist() == [12.0, 11.5, 11.0]  # TS_1_1_1, the shallowest
    assert table["time"].dt.strftime("%H:%M").tolist() == ["00:15", "01:45", "02:45"]
    assert table["swc"].tolist() == [25.0, 26.0, 27.0] and "swc" in assembled.columns["predictors"]
    report = "\n".join(assembled.report)
    assert "europe-fluxdata / ICOS" in report and "NEE = FC + SC" in report
    assert "night: SW_IN below 10 W m-2" in report and "SSITC" in report
    assert "day, or night not known: 1" in report and "NEE missing: 1" in report
    assert "quality flag failed or missing: 1" in report


def test_reddyproc_text_with_units_line_and_no_quality_column(tmp_path):
    lines = ["Year\tDoY\tHour\tNEE\tRg\tTair\tTsoil\tVPD\tUstar",
             "--\t--\t--\tumolm-2s-1\tWm-2\tdegC\tdegC\tkPa\tms-1",
             "2014\t100\t0.5\t2.0\t0\t8.0\t9.0\t0.2\t0.30",
             "2014\t100\t1.0\t-9999\t0\t8.0\t9.0\t0.2\t0.30",
             "2014\t100\t1.5\t1.8\t0\t7.5\t9.0\t-9999\t0.30",
             "2014\t100\t2.0\t1.6\t20\t7.0\t9.0\t0.1\t0.30",
             "2014\t100\t2.5\t1.5\t0\t7.0\t8.5\t0.1\t0.02"]
    path = tmp_path / "reddyproc_input.txt"
    path.write_text("\n".join(lines) + "\n")
    assembled = assemble_fluxnet(path, FluxOptions(ustar_threshold=0.1))
    table = assembled.table
    assert table["reco"].tolist() == [2.0, 1.8]
    assert table["time"].dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2014-04-10 00:15", "2014-04-10 01:15"]
    assert table["vpd"].iloc[0] == pytest.approx(2.0)  # 0.2 kPa from the units line -> 2 hPa
    assert "kPa, multiplied by 10 to hPa (the units line)" in "\n".join(assembled.report)
    report = "\n".join(assembled.report)
    assert "REddyProc input text" in report and "no quality filter applied" in report
    assert "taken as the end as REddyProc does" in report
    assert "u* below the threshold or missing: 1" in report and "day, or night not known: 1" in report


def test_potential_radiation_at_noon_on_the_equator_and_at_midnight():
    times = pd.Series(pd.to_datetime(["2014-03-20 12:00", "2014-03-20 00:00", "2014-06-21 12:00"]))
    sw = potential_radiation(times, latitude=0.0, longitude=0.0, utc_offset=0.0)
    assert sw[0] == pytest.approx(1361 * (1 + 0.033 * np.cos(2 * np.pi * 79 / 365)), rel=0.01)
    assert sw[1] == 0.0
    # June solstice at the equator: the sun 23.4 degrees off the zenith
    assert sw[2] == pytest.approx(1361 * 0.967 * np.cos(np.radians(23.44)), rel=0.01)


def test_moving_point_estimate_finds_the_plateau_of_a_known_threshold():
    rng = np.random.default_rng(0)
    n = 20000
    time = pd.Series(pd.date_range("2014-01-01", periods=n, freq="h"))
    temp = pd.Series(rng.uniform(0, 25, n))
    ustar = pd.Series(rng.uniform(0.02, 0.8, n))
    true = 1.0 * 2.0 ** ((temp - 15) / 10)
    flux = pd.Series(true * np.minimum(1.0, ustar / 0.25) + rng.normal(0, 0.05, n))
    estimate = estimate_threshold(ustar, flux, temp, time)
    assert 0.2 <= estimate.threshold <= 0.32, estimate.line()
    assert estimate.low <= estimate.threshold <= estimate.high and estimate.high - estimate.low < 0.1
    assert set(estimate.seasons) == {"Dec-Feb", "Mar-May", "Jun-Aug", "Sep-Nov"} and not estimate.skipped
    again = estimate_threshold(ustar, flux, temp, time)
    assert again.threshold == estimate.threshold  # the bootstrap's seed is fixed
    assert "median over 100 bootstrap resamples" in estimate.line() and "5-95 %" in estimate.line()


def test_seasons_with_too_few_records_are_skipped_and_reported():
    rng = np.random.default_rng(1)
    # 1400 hourly records in Dec-Feb, 300 in March: March is skipped, the estimate is winter's
    time = pd.Series(pd.date_range("2014-01-01", periods=1400, freq="h").append(
        pd.date_range("2014-03-05", periods=300, freq="h")))
    n = len(time)
    temp, ustar = pd.Series(rng.uniform(0, 25, n)), pd.Series(rng.uniform(0.02, 0.8, n))
    flux = pd.Series(2.0 ** ((temp - 15) / 10) * np.minimum(1.0, ustar / 0.3) + rng.normal(0, 0.05, n))
    estimate = estimate_threshold(ustar, flux, temp, time)
    assert estimate.skipped == {"Mar-May": 300} and list(estimate.seasons) == ["Dec-Feb"]
    assert 0.22 <= estimate.threshold <= 0.38, estimate.line()
    assert "Mar-May skipped (300 night records, fewer than 600)" in estimate.line()
    few = estimate_threshold(ustar[-300:], flux[-300:], temp[-300:], time[-300:])
    assert few.threshold is None and few.skipped == {"Mar-May": 300}


def _raw_year_file(tmp_path, threshold: float) -> Path:
    """A year of half-hourly ICOS records (raw FC, no storage), night 20-04 h; the flux falls off
    linearly below u* = ``threshold`` (m s-1) and is Q10 = 2 respiration above it."""
    rng = np.random.default_rng(2)
    start = pd.date_range("2014-01-01 00:00", "2014-12-31 23:30", freq="30min")
    n = len(start)
    night = (start.hour >= 20) | (start.hour < 4)
    ta = 12 + 8 * np.sin(2 * np.pi * (start.day_of_year - 110) / 365) + rng.uniform(-4, 4, n)
    ustar = rng.uniform(0.02, 0.9, n)
    fc = 3 * 2.0 ** ((ta - 15) / 10) * np.minimum(1.0, ustar / threshold) + rng.normal(0, 0.05, n)
    frame = pd.DataFrame({"TIMESTAMP_START": start.strftime("%Y%m%d%H%M"),
                          "TIMESTAMP_END": (start + pd.Timedelta(minutes=30)).strftime("%Y%m%d%H%M"),
                          "FC": np.where(night, fc, -5).round(4), "FC_SSITC_TEST": 0, "TA_1_1_1": ta.round(3),
                          "SW_IN_1_1_1": np.where(night, 0, 300), "USTAR": ustar.round(4)})
    path = tmp_path / "ICOS_XX-Raw_2014.csv"
    frame.to_csv(path, index=False)
    return path


def test_raw_nee_is_filtered_by_default_at_the_threshold_built_into_the_file(tmp_path):
    assembled = assemble_fluxnet(_raw_year_file(tmp_path, 0.3))
    report = "\n".join(assembled.report)
    line = next(x for x in assembled.report if x.startswith("u* threshold"))
    value = float(line.split()[2])
    low, high = (float(x) for x in line.split("5-95 % ")[1].split(")")[0].split("-"))
    assert 0.25 <= value <= 0.36 and low <= value <= high, line
    assert "skipped" not in line and "europe-fluxdata / ICOS" in report
    assert (assembled.table["ustar"] >= value).all()


def _one_line(capsys, code, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    for fragment in fragments:
        assert fragment in err[0], err


def test_bad_input_is_one_line_exit_2_and_the_input_unchanged(fluxnet_file, tmp_path, capsys):
    before = fluxnet_file.read_bytes()
    out = str(tmp_path / "t.parquet")
    _one_line(capsys, main(["data", "fluxnet", str(fluxnet_file), "--out", out, "--ustar-threshold", "auto"]),
              "u* threshold", "--ustar-threshold", "Dec-Feb skipped (33 night records")
    _one_line(capsys, main(["data", "fluxnet", str(fluxnet_file), "--out", str(tmp_path / "t.csv")]), ".parquet")
    _one_line(capsys, main(["data", "fluxnet", str(fluxnet_file), "--out", out, "--night", "potential"]),
              "--latitude")
    stray = tmp_path / "other.csv"
    stray.write_text("a,b\n1,2\n")
    _one_line(capsys, main(["data", "fluxnet", str(stray), "--out", out]), "other.csv", "not a flux file")
    renamed = tmp_path / "flux.parquet"
    renamed.write_bytes(before)
    _one_line(capsys, main(["data", "fluxnet", str(renamed), "--out", str(renamed)]), "is the input file")
    _one_line(capsys, main(["data", "fluxnet", "--out", out]), "needs the flux file")
    assert fluxnet_file.read_bytes() == before and renamed.read_bytes() == before
    assert not Path(out).exists()


def test_soil_temperature_missing_is_named(tmp_path, capsys):
    path = _icos_file(tmp_path)
    text = path.read_text().replace("TS_2_1_1", "X2").replace("TS_1_1_1", "X1")
    path.write_text(text)
    code = main(["data", "fluxnet", str(path), "--out", str(tmp_path / "t.parquet"), "--temperature", "soil"])
    _one_line(capsys, code, "soil temperature", path.name)


@pytest.mark.skipif(not REAL.is_file(), reason="the shipped FLUXNET2015 subset is not in data/real")
def test_the_shipped_puechabon_subset_keeps_the_networks_ustar_filtering_by_default():
    assembled = assemble_fluxnet(REAL, FluxOptions(latitude=43.7414, longitude=3.5958, utc_offset=1))
    report = "\n".join(assembled.report)
    assert "u* filter: none further (NEE_VUT_MEAN is ONEFlux's NEE, already filtered by the network's VUT" in report
    assert "u* below the threshold or missing: 0" in report
    agree = float(report.split("potential radiation at the given coordinates in ")[1].split(" %")[0])
    assert agree > 97  # the file's NIGHT flag is ONEFlux's from potential radiation
    assert len(assembled.table) > 500 and (assembled.table["reco"] >= 0).all()
    estimated = assemble_fluxnet(REAL, FluxOptions(ustar_threshold="auto"))
    assert any("bootstrap resamples" in x for x in estimated.report)
    assert len(estimated.table) < len(assembled.table)
