"""hybridlab data fractions and data limesoda: SOC-fraction tables made into the SOC model's table
(carbon units from the names, NPP from the Miami model in carbon, the soil mass and input share of the
sampled layer, mineral type, vegetation, site ids), checked against values worked out by hand; bad
input one line, exit 2, the input unchanged; the Georgiou et al. 2022 synthesis where it is present."""
import json
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main
from core.datasets import load_file
from core.datasets.surveys.fractions import FractionsOptions, assemble_fractions

GEORGIOU = Path("/work/shared/realdata/socfrac_Georgiou2022/MOC_synthesis_without_LUCAS.csv")
TEXT = ("Site,MAT_degC,MAP,Depth_top,Depth_bottom,BD,Clay,Silt,SOC_pct,MAOC_pct,POM_pct,Mineralogy,Land_use\n"
        "A,10,1000,0,10,1.2,20,30,2.0,1.2,0.5,2:1,Forest\n"
        "B,25,400,30,100,,40,20,0.5,0.3,,1:1,Cropland\n"
        "C,2,800,0,20,,10,15,1.5,0.9,0.4,HM,Forest\n"
        "C,2,800,20,10,,10,15,1.0,,,HM,\n")


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "fractions.csv"
    path.write_text(TEXT)
    return path


def test_units_npp_soil_mass_and_layer_inputs_by_hand(table):
    assembled = assemble_fractions(table)
    t = assembled.table
    # Miami NPP (g dry matter): 1406.372 (T 10 limits), 699.763 (P 400), 762.222 (T 2); x 0.5 g C per g;
    # layer share of the 0-20 cm input with beta 0.966: 0-10 cm 0.585626, 30-100 cm 0.646446, 0-20 cm 1
    assert t["npp"].iloc[:3].tolist() == pytest.approx([411.804, 226.179, 381.111], rel=1e-5)
    assert t["soil_mass"].iloc[:3].tolist() == pytest.approx([120.0, 910.0, 260.0])  # 10 x cm x BD (1.3 where none)
    assert t["soc"].tolist() == pytest.approx([20.0, 5.0, 15.0, 10.0])  # percent x 10
    assert t["moc"].iloc[:3].tolist() == pytest.approx([12.0, 3.0, 9.0]) and pd.isna(t["poc"].iloc[1])
    assert t["silt_clay"].tolist() == pytest.approx([50.0, 60.0, 25.0, 25.0])
    assert t["lm"].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert t["depth_cm"].iloc[:3].tolist() == [5.0, 65.0, 10.0] and pd.isna(t["depth_cm"].iloc[3])
    assert pd.isna(t["soil_mass"].iloc[3])  # bottom above top: no layer, left out by train
    assert t["site_id"].tolist() == ["A", "B", "C", "C"]
    assert t["veg_cropland"].iloc[:3].tolist() == [0.0, 1.0, 0.0] and pd.isna(t["veg_forest"].iloc[3])
    report = "\n".join(assembled.report)
    assert "percent, from its name, times 10" in report and "times 0.5 g C per g" in report
    assert "1 row(s) under managed land (Cropland)" in report and "bottom depth is not below the top" in report
    forcing = assembled.columns["forcing"]
    assert forcing == {"temp": "temp", "npp": "npp", "soil_mass": "soil_mass"}


def test_the_fault_switches_keep_dry_matter_and_the_topsoil_rule(table):
    t = assemble_fractions(table, FractionsOptions(carbon_fraction=1.0, depth_rule="topsoil")).table
    assert t["npp"].iloc[:3].tolist() == pytest.approx([1406.372, 699.763, 762.222], rel=1e-5)
    assert t["soil_mass"].tolist() == [260.0] * 4


def test_drop_vegetation_and_the_cli_table_loads(tmp_path, capsys):
    table = tmp_path / "complete.csv"
    table.write_text(TEXT.rsplit("C,2,800,20", 1)[0])
    before = table.read_bytes()
    out = tmp_path / "soc.parquet"
    assert main(["data", "fractions", str(table), "--out", str(out), "--drop-vegetation", "cropland"]) == 0
    assert "vegetation cropland (--drop-vegetation): 1" in capsys.readouterr().out
    columns = json.loads(out.with_suffix(".columns.json").read_text())
    data = load_file(out, columns, nonnegative={"soc", "moc", "poc", "npp", "soil_mass"}, positive={"npp", "soil_mass"},
                     drop_incomplete=True)
    assert len(data.frame) == 2 and set(data.targets) == {"soc", "moc", "poc"}
    assert table.read_bytes() == before


def _one_line(capsys, code, *fragments):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
    for fragment in fragments:
        assert fragment in err[0], err


@pytest.mark.parametrize("text, flags, fragments", [
    ("site,MAT,MAP,SOC\nA,10,500,20\n", [], ("column SOC", "--carbon-unit")),
    ("site,MAT,MAP,SOC_g_kg\nA,10,500,40\n", ["--carbon-unit", "percent"], ("median 400", "--carbon-unit")),
    ("site,MAT,MAP,SOC_pct\nA,10,500,40\n", [], ("SOC_pct", "median 400")),
    ("site,MAP,MOC_g_kg\nA,500,20\n", [], ("no mean annual temperature (MAT) column",)),
    ("site,MAT,MAP,clay\nA,10,500,20\n", [], ("no MOC or SOC column",)),
    ("site,MAT,MAP,MOC_g_kg,vegetation\nA,10,500,20,Forest\n", ["--drop-vegetation", "Crops"], ("crops", "classes: forest")),
    ("site,MAT,MAP,MOC_g_kg\nA,10,500,20\n", ["--carbon-fraction", "2"], ("--carbon-fraction", "0.3 to 1")),
    ("site,MAT,MAP,MOC_g_kg\nA,10,500,20\n", ["--id", "plot"], ("--id", "plot")),
])
def test_bad_input_is_one_line_exit_2_and_the_input_unchanged(tmp_path, capsys, text, flags, fragments):
    path = tmp_path / "f.csv"
    path.write_text(text)
    code = main(["data", "fractions", str(path), "--out", str(tmp_path / "t.parquet"), *flags])
    _one_line(capsys, code, *fragments)
    assert path.read_text() == text and not (tmp_path / "t.parquet").exists()


def test_an_output_that_is_an_input_is_refused(table, capsys):
    parquet = table.with_suffix(".parquet")
    pd.read_csv(table).to_parquet(parquet)
    before = parquet.read_bytes()
    code = main(["data", "fractions", str(parquet), "--out", str(parquet)])
    _one_line(capsys, code, "is the input file")
    assert parquet.read_bytes() == before


@pytest.mark.skipif(not GEORGIOU.is_file(), reason="the Georgiou et al. 2022 synthesis is not on this machine")
def test_the_georgiou_synthesis_imports_with_its_units_and_layers():
    assembled = assemble_fractions(GEORGIOU)
    t = assembled.table
    assert len(t) == 1107 and t["moc"].notna().all()
    assert t["npp"].median() == pytest.approx(302.1, rel=0.01)  # Miami in carbon, scaled to each layer
    assert (t["soil_mass"].dropna() > 0).all() and t["soil_mass"].isna().sum() == 172
    assert {"silt_clay", "lm", "map_mm", "depth_cm", "veg_cropland"} <= set(assembled.columns["predictors"])
    assert "422 row(s) under managed land" in "\n".join(assembled.report)


def test_limesoda_set_with_its_folds_and_bad_names(tmp_path, capsys):
    pytest.importorskip("LimeSoDa")
    out = tmp_path / "bb.parquet"
    assert main(["data", "limesoda", "BB.250", "--out", str(out), "--mat", "9.5", "--map", "560"]) == 0
    t = pd.read_parquet(out)
    assert len(t) == 250 and sorted(t["fold"].unique()) == list(range(1, 11))
    assert t["soc"].iloc[:3].tolist() == pytest.approx([8.4, 6.1, 7.9])  # SOC_target 0.84, 0.61, 0.79 %
    assert t["npp"].iloc[0] == pytest.approx(465.8, abs=0.1) and "x_ph_target" not in t
    capsys.readouterr()
    _one_line(capsys, main(["data", "limesoda", "XX.1", "--out", str(tmp_path / "x.parquet")]), "no set 'XX.1'")
    _one_line(capsys, main(["data", "limesoda", "BB.250", "--out", str(tmp_path / "y.parquet"), "--mat", "9"]),
              "--mat and --map go together")
