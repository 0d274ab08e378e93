"""hybridlab data retention: theta(h) points in long and wide layout, suction in kPa, pF and cm,
water content in percent and fractions, texture from fractions and from particle-size curves,
organic matter to organic carbon, checked against tables worked out by hand; bad input one
line, exit 2, the input unchanged."""
import json
from math import log10
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.datasets import load_file
from core.datasets.surveys.retention import RetentionOptions, assemble_retention
from core.datasets.surveys.retention_samples import curve_texture

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "data" / "real"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def long_kpa(tmp_path):
    points = _write(tmp_path / "points.csv", "sample,suction_kPa,theta_pct\nS1,0,45.0\nS1,10,30.0\nS1,1500,10.0\n"
                                             "S2,10,35.5\nS2,,20\nS2,33,\n")
    samples = _write(tmp_path / "samples.csv", "sample,clay,silt,sand,OM_pct,BD\nS1,0.2,0.3,0.5,3.448,1.3\n"
                                               "S2,0.1,0.2,0.7,1.724,1.5\n")
    return points, samples


def test_long_layout_in_kpa_and_percent_with_fractions_and_organic_matter(long_kpa):
    assembled = assemble_retention(*long_kpa)
    expected = pd.DataFrame({
        "sample_id": ["S1", "S1", "S1", "S2"],
        "h_cm": [1.0, 101.9716, 15295.74, 101.9716],  # 0 kPa is saturation, taken as 1 cm (pF 0)
        "theta": [0.45, 0.30, 0.10, 0.355],
        "clay": [20.0, 20.0, 20.0, 10.0], "silt": [30.0, 30.0, 30.0, 20.0], "sand": [50.0, 50.0, 50.0, 70.0],
        "oc": [2.0, 2.0, 2.0, 1.0], "om": [3.448, 3.448, 3.448, 1.724], "bd": [1.3, 1.3, 1.3, 1.5]})
    pd.testing.assert_frame_equal(assembled.table[list(expected.columns)], expected, check_dtype=False)
    assert assembled.columns["predictors"] == ["clay", "silt", "sand", "oc", "bd"]
    assert assembled.columns["forcing"] == {"h": "h_cm"} and assembled.columns["targets"] == {"theta": "theta"}
    report = "\n".join(assembled.report)
    assert "no suction: 1" in report and "no water content: 1" in report
    assert "/ 1.724 (--om-factor" in report and "multiplied by 10.1972 to cm" in report
    assert "in percent, divided by 100" in report and "multiplied by 100" in report  # theta in %, texture 0-1
    assert "1 point(s) at suction 0" in report


def test_om_factor_is_used(long_kpa):
    table = assemble_retention(*long_kpa, RetentionOptions(om_factor=2.0)).table
    assert table["oc"].tolist() == pytest.approx([1.724, 1.724, 1.724, 0.862])


def test_wide_layout_in_pf_with_a_particle_size_curve(tmp_path):
    points = _write(tmp_path / "wide.csv", "code,pF0,pF2,pF4.2\nA,0.50,0.35,\nB,0.40,,0.05\n")
    samples = _write(tmp_path / "psd.csv", "code,psd_1um,psd_4um,psd_20um,psd_100um,psd_2000um,OC\n"
                                           "A,5,15,30,50,100,1.2\nB,,20,40,60,100,0.8\n")
    assembled = assemble_retention(points, samples)
    table = assembled.table
    assert table["sample_id"].tolist() == ["A", "A", "B", "B"]
    assert table["h_cm"].tolist() == pytest.approx([1.0, 100.0, 1.0, 10 ** 4.2])
    assert table["theta"].tolist() == [0.50, 0.35, 0.40, 0.05]
    # A: F(2 um) = 5 + 10 log(2/1)/log(4/1) = 10 %; F(50 um) = 30 + 20 log(50/20)/log(100/20) = 41.38647 %
    f50 = 30 + 20 * log10(2.5) / log10(5)
    a = table[table["sample_id"] == "A"].iloc[0]
    assert (a["clay"], a["silt"], a["sand"]) == pytest.approx((10.0, f50 - 10, 100 - f50))
    assert table.loc[table["sample_id"] == "B", "clay"].isna().all()  # B's curve starts at 4 um
    assert table["oc"].tolist() == [1.2, 1.2, 0.8, 0.8]
    report = "\n".join(assembled.report)
    assert "wide layout, 3 suction columns" in report and "2 empty cell(s)" in report
    assert "no texture for 1 row(s): the particle-size curve does not reach down to 2 um" in report
    assert "10^pF" in report


def test_points_file_with_properties_on_every_point_and_a_where_filter(tmp_path):
    points = _write(tmp_path / "unsoda_like.csv",
                    "code,table,pressure_head_cm,theta_cm3_cm3,OM_content_pct,bulk_density_g_cm3,clay_pct_derived,"
                    "silt_pct_derived,sand_pct_derived\n"
                    "1,lab_drying_h-t,0,0.40,1.724,1.5,10,20,70\n1,lab_drying_h-t,100,0.30,1.724,1.5,10,20,70\n"
                    "1,field_drying_h-t,100,0.28,1.724,1.5,10,20,70\n2,lab_drying_h-t,15000,0.05,,1.6,30,30,40\n")
    assembled = assemble_retention(points, options=RetentionOptions(where=("table=lab_drying_h-t",)))
    table = assembled.table
    assert table["sample_id"].tolist() == ["1", "1", "2"]
    assert table["h_cm"].tolist() == [1.0, 100.0, 15000.0] and table["theta"].tolist() == [0.40, 0.30, 0.05]
    assert table["oc"].tolist()[:2] == [1.0, 1.0] and np.isnan(table["oc"].iloc[2])
    assert table["clay"].tolist() == [10.0, 10.0, 30.0] and table["bd"].tolist() == [1.5, 1.5, 1.6]
    assert "not table = lab_drying_h-t (--where): 1" in "\n".join(assembled.report)


def test_texture_from_unsoda_lists_of_sizes_and_cumulative_fractions(tmp_path):
    points = _write(tmp_path / "p.csv", "code,h_cm,theta\n7,10,0.3\n7,1000,0.2\n8,10,0.25\n")
    samples = _write(tmp_path / "s.csv", 'code,psd_sizes_um,psd_cum_fraction\n7,2;50;2000,0.1;0.4;1.0\n'
                                         '8,2;50;2000,0.3;0.2;1.0\n')
    assembled = assemble_retention(points, samples)
    seven = assembled.table.iloc[0]
    assert (seven["clay"], seven["silt"], seven["sand"]) == pytest.approx((10.0, 30.0, 60.0))
    assert np.isnan(assembled.table["clay"].iloc[2])  # 8's curve falls with size
    assert "falls with size" in "\n".join(assembled.report)


def test_curve_texture_is_relative_to_the_fine_earth():
    parts, why = curve_texture(np.array([2.0, 50.0, 2000.0]), np.array([0.08, 0.32, 0.8]))
    assert why is None and parts == pytest.approx((10.0, 30.0, 60.0))


def test_cli_writes_a_table_and_map_that_load(long_kpa, tmp_path, capsys):
    points, samples = long_kpa
    before = points.read_bytes(), samples.read_bytes()
    out = tmp_path / "swrc.parquet"
    assert main(["data", "retention", "--points", str(points), "--samples", str(samples), "--out", str(out)]) == 0
    assert "4 points of 2 samples" in capsys.readouterr().out
    columns = json.loads(out.with_suffix(".columns.json").read_text())
    data = load_file(out, columns, nonnegative={"theta", "h"}, positive={"h"})
    assert data.id == "sample_id" and data.predictors == ["clay", "silt", "sand", "oc", "bd"]
    assert (points.read_bytes(), samples.read_bytes()) == before


def _one_line(capsys, code, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    for fragment in fragments:
        assert fragment in err[0], err


@pytest.mark.parametrize("text, flags, fragments", [
    ("sample,h,theta\nS1,10,0.3\n", [], ("points.csv", "--head-unit")),
    ("sample,h_cm,theta\nS1,-10,0.3\nS1,20,0.2\n", [], ("mixes signs", "row 2", "row 3")),
    ("sample,h_cm,theta_pct\nS1,10,30\n", ["--theta-unit", "fraction"], ("theta_pct", "percent")),
    ("name,h_cm,theta\nS1,10,0.3\n", [], ("no sample id column",)),
    ("sample,h_cm,theta,clay,silt,sand\nS1,10,0.3,10,20,70\nS1,20,0.2,12,20,68\n", [], ("differing clay", "S1")),
    ("sample,h_cm,theta\nS1,10,0.3\n", ["--where", "table=lab"], ("--where", "table=lab")),
    ("sample,pF_1,pF_2\nS1,0.3,0.2\n", ["--head-unit", "cm"], ("pf", "--head-unit says cm")),
])
def test_bad_input_is_one_line_exit_2_and_the_input_unchanged(tmp_path, capsys, text, flags, fragments):
    points = _write(tmp_path / "points.csv", text)
    code = main(["data", "retention", "--points", str(points), "--out", str(tmp_path / "t.parquet"), *flags])
    _one_line(capsys, code, *fragments)
    assert points.read_text() == text and not (tmp_path / "t.parquet").exists()


def test_an_output_that_is_an_input_is_refused(tmp_path, capsys):
    points = _write(tmp_path / "points.parquet", "sample,h_cm,theta\nS1,10,0.3\n")
    code = main(["data", "retention", "--points", str(points), "--out", str(points)])
    _one_line(capsys, code, "is the input file")
    assert points.read_text() == "sample,h_cm,theta\nS1,10,0.3\n"


@pytest.mark.skipif(not (REAL / "unsoda_points_subset.csv").is_file(), reason="the UNSODA subset is not shipped")
def test_the_shipped_unsoda_subset_texture_from_curves_matches_the_given_texture():
    points, samples = REAL / "unsoda_points_subset.csv", REAL / "unsoda_samples_subset.csv"
    given = assemble_retention(points, samples, RetentionOptions(texture="fractions")).table
    curve = assemble_retention(points, samples, RetentionOptions(texture="curve")).table
    both = given[["clay", "silt", "sand"]].notna().all(axis=1) & curve[["clay", "silt", "sand"]].notna().all(axis=1)
    assert both.mean() > 0.9
    difference = (given.loc[both, ["clay", "silt", "sand"]] - curve.loc[both, ["clay", "silt", "sand"]]).abs()
    assert float(difference.to_numpy().max()) < 1.0  # the shipped columns were derived the same way, rounded
