"""``hybridlab data lucas``: LUCAS files in the layouts the JRC publishes, with their awkward parts
(a BOM, ';' separators, decimal commas, '< LOD', ids spelled three ways, ids missing from one file,
duplicated ids), joined into one table that ``train --columns`` takes."""
import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import DataError
from core.datasets.surveys import assemble_lucas


def _write(path, text: str, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    ids = list(range(1000, 1060))
    soil = ["POINTID,OC,pH_H2O,N,P,NUTS_0,TH_LAT,TH_LONG,LC0_Desc"]
    for k, point in enumerate(ids):
        oc = "< LOD" if k == 3 else "<0.5" if k == 4 else f"{rng.uniform(5, 60):.1f}"
        p = "abc" if k == 7 else f"{rng.uniform(5, 80):.1f}"
        soil.append(f"{point},{oc},{rng.uniform(4, 8):.2f},{rng.uniform(0.5, 5):.2f},{p},DE,{rng.uniform(40, 60):.4f},"
                    f"{rng.uniform(-5, 25):.4f},Cropland")
    soil.append("1005,12.0,6.1,1.0,10,DE,50.0,10.0,Grassland")  # 1005 again: both rows are left out
    soil.append(",20.0,6.0,1.0,10,DE,50.0,10.0,Grassland")  # no id
    # bulk density: ';' separated, decimal commas, a BOM, POINT_ID, CF in percent; one id not in the soil file
    bd = ["POINT_ID;BD 0-20;CF 0-20"] + [f"{p};{rng.uniform(0.9, 1.6):.2f}".replace(".", ",") + f";{rng.integers(0, 40)}"
                                           for p in ids[:40]] + ["999999;1,2;5"]
    texture = ["Point_ID,Clay,Sand,Silt,Coarse"] + [f"{p},{rng.uniform(5, 50):.0f},{rng.uniform(5, 80):.0f},"
                                                    f"{rng.uniform(5, 60):.0f},{rng.uniform(0, 30):.0f}" for p in ids]
    covariates = pd.DataFrame({"POINTID": ids, "MAT": rng.uniform(2, 16, 60), "NPP": rng.uniform(200, 900, 60),
                               "ndvi": rng.uniform(0, 1, 60), "elev_dem": rng.uniform(0, 1500, 60)})
    covariates.to_parquet(tmp_path / "covariates.parquet", index=False)
    return {"soil": _write(tmp_path / "LUCAS-SOIL-2018.csv", "\n".join(soil) + "\n"),
            "bulk_density": _write(tmp_path / "BD.csv", "\ufeff" + "\n".join(bd) + "\n"),
            "texture": _write(tmp_path / "texture.csv", "\n".join(texture) + "\n"),
            "covariates": tmp_path / "covariates.parquet"}


def test_files_join_on_the_point_id_whatever_its_spelling(files):
    assembled = assemble_lucas(files)
    table = assembled.table.set_index("point_id")
    assert len(table) == 59  # 60 points, 1005 duplicated (both rows out), a row without id out
    assert "1005" not in table.index
    assert table.loc["1000", "bd"] > 0.8 and table.loc["1000", "clay"] >= 5 and table.loc["1000", "MAT"] > 0
    assert np.isnan(table.loc["1003", "oc"]) and np.isnan(table.loc["1004", "oc"])  # < LOD, <0.5: nan policy
    assert np.isnan(table.loc["1007", "p"])  # 'abc' in a numeric column: missing, and a line says where
    assert table["nuts_0"].eq("DE").all() and table["lc0_desc"].eq("Cropland").all()  # text stays text
    report = "\n".join(assembled.report)
    assert "LUCAS-SOIL-2018.csv: 2 row(s) left out: point id appears more than once" in report
    assert "LUCAS-SOIL-2018.csv: 1 row(s) left out: no point id" in report
    assert "BD.csv: 1 point id(s) not among the soil file's points, left out (e.g. '999999')" in report
    assert "BD.csv: 1 point id(s) left out with the soil file's rows that differ ('1005')" in report
    assert "BD.csv: 20 of 59 soil points have no row here" in report
    assert "LUCAS-SOIL-2018.csv: column P, row 9: 'abc' is not a number; taken as missing" in report
    assert "below detection limit, nan: 1 value(s) in oc (1)" in report and "no limit given, nan: 1 value(s) in oc" in report
    assert "not a number, taken as missing: 1 value(s) in p (1)" in report
    assert "forcing: temp = MAT, npp = NPP" in report and "predictors (2): ndvi, elev_dem" in report
    assert "coordinates: th_lat, th_long" in report


def test_soc_density_from_oc_bulk_density_and_coarse_fragments(files):
    table = assemble_lucas(files).table.set_index("point_id")
    row = table.loc["1000"]
    assert row["coarse_fragments"] <= 1  # read as percent, divided by 100, and said so
    assert row["soc_density"] == pytest.approx(row["oc"] * row["bd"] * (1 - row["coarse_fragments"]))
    assert table["soc_density"].notna().sum() == 37  # 40 BD rows, 1005 left out, 1003/1004 below detection


@pytest.mark.parametrize("policy, expected", [("half", 0.25), ("limit", 0.5)])
def test_below_detection_policy(files, policy, expected):
    table = assemble_lucas(files, policy).table.set_index("point_id")
    assert table.loc["1004", "oc"] == expected
    assert np.isnan(table.loc["1003", "oc"])  # '< LOD' names no limit: missing whatever the policy


def test_the_column_map_names_targets_forcing_predictors_and_units(files):
    columns = assemble_lucas(files).columns
    assert columns["id"] == "point_id" and columns["targets"] == {"soc": "oc"}
    assert columns["forcing"] == {"temp": "MAT", "npp": "NPP"}
    assert columns["predictors"] == ["ndvi", "elev_dem"]  # the covariate stack, forcing and targets left out
    assert columns["units"]["oc"] == "g kg-1" and columns["units"]["soc_density"] == "kg m-3"


def test_the_command_writes_a_table_that_trains(files, tmp_path, capsys):
    out = tmp_path / "lucas.parquet"
    args = ["data", "lucas", "--soil", str(files["soil"]), "--bulk-density", str(files["bulk_density"]),
            "--texture", str(files["texture"]), "--covariates", str(files["covariates"]), "--out", str(out)]
    assert main(args) == 0
    assert (tmp_path / "lucas.columns.json").is_file() and "left out" in (tmp_path / "lucas.report.md").read_text()
    assert main(args) == 2  # exists: nothing is overwritten without --overwrite
    assert "exists" in capsys.readouterr().err
    columns = json.loads((tmp_path / "lucas.columns.json").read_text())
    assert main(["train", "--model", "soc", "--roles", "all_global", "--targets", "soc", "--data", str(out),
                 "--columns", str(tmp_path / "lucas.columns.json"), "--epochs", "2", "--out", str(tmp_path / "run"),
                 "--quiet"]) == 0
    assert columns["targets"]["soc"] == "oc"


def test_problems_with_the_files_are_one_line(files, tmp_path, capsys):
    bad = _write(tmp_path / "no_id.csv", "ID,OC\n1,2\n")
    with pytest.raises(DataError, match="no_id.csv: no point id column"):
        assemble_lucas({"soil": bad})
    with pytest.raises(DataError, match="--soil is required"):
        assemble_lucas({"texture": files["texture"]})
    assert main(["data", "lucas", "--soil", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "t.parquet")]) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main(["data", "lucas", "--soil", str(files["soil"]), "--out", str(tmp_path / "t.csv")]) == 2


def test_a_lucas_2015_soil_file_without_coordinates(tmp_path):
    soil = _write(tmp_path / "LUCAS_2015.csv", "Point_ID,pH(H2O),pH(CaCl2),OC,N\n1,6.1,5.5,12.3,1.1\n2,7.0,6.4,<1,0.9\n")
    texture = _write(tmp_path / "texture.csv", "POINTID;Clay;Sand;Silt\n1;20,5;40;39,5\n2;10;70;20\n")
    assembled = assemble_lucas({"soil": soil, "texture": texture}, below_detection="half")
    table = assembled.table.set_index("point_id")
    assert list(table.columns[:4]) == ["ph_h2o", "ph_cacl2", "oc", "n"]
    assert table.loc["2", "oc"] == 0.5 and table.loc["1", "clay"] == 20.5
    assert assembled.columns["predictors"] == ["ph_h2o", "ph_cacl2", "n", "clay", "sand", "silt"]
    assert "SOC density not computed: no bulk density (BD 0-20 in --bulk-density) and no coarse fragments" in \
        "\n".join(assembled.report)


def test_an_exact_repeat_is_kept_once_and_differing_rows_are_left_out_everywhere(tmp_path):
    soil = _write(tmp_path / "soil.csv", "POINTID,OC,N\n1,10,1\n2,12,1.1\n2,12,1.1\n3,14,1.2\n3,15,1.2\n4,9,1\n")
    texture = _write(tmp_path / "texture.csv", "POINTID,Clay\n1,20\n2,25\n3,30\n4,35\n4,35\n")
    assembled = assemble_lucas({"soil": soil, "texture": texture})
    table = assembled.table.set_index("point_id")
    report = "\n".join(assembled.report)
    assert list(table.index) == ["1", "2", "4"] and table.loc["2", "oc"] == 12 and table.loc["4", "clay"] == 35
    assert "soil.csv: 1 row(s) repeat an earlier row exactly (point id(s) '2'; rows 4); kept once" in report
    assert "soil.csv: 2 row(s) left out: point id appears more than once (rows 5, 6)" in report
    assert "texture.csv: 1 point id(s) left out with the soil file's rows that differ ('3')" in report
    assert "not among the soil file's points" not in report and "no row here" not in report


def test_coarse_fragments_by_lucas_name_and_which_input_soc_density_lacks(tmp_path):
    soil = _write(tmp_path / "soil.csv", "POINTID,OC\n1,10\n2,20\n")
    bd = _write(tmp_path / "bd.csv", "POINTID,BD 0-20\n1,1.2\n2,1.0\n")
    texture = _write(tmp_path / "texture.csv", "POINTID,Clay,Coarse (%)\n1,20,10\n2,25,0\n")
    table = assemble_lucas({"soil": soil, "bulk_density": bd, "texture": texture}).table.set_index("point_id")
    assert table.loc["1", "soc_density"] == pytest.approx(10 * 1.2 * 0.9) and table.loc["2", "soc_density"] == 20
    bd_coarse = _write(tmp_path / "bd2.csv", "POINTID,BD,Coarse\n1,1.2,0.5\n2,1.0,0\n")  # percent, not fraction
    assembled = assemble_lucas({"soil": soil, "bulk_density": bd_coarse})
    assert "coarse_fragments" in assembled.table
    report = "\n".join(assemble_lucas({"soil": soil, "bulk_density": bd}).report)
    assert "SOC density not computed: no coarse fragments (CF 0-20, Coarse (%) or Coarse" in report
    assert "no bulk density" not in report


def test_land_cover_becomes_one_hot_predictors(tmp_path):
    rows = [f"{k},{10 + k},{['Cropland', 'Grassland', 'Woodland'][k % 3]}" for k in range(9)]
    soil = _write(tmp_path / "soil.csv", "POINTID,OC,LC0_Desc\n" + "\n".join(rows) + "\n9,12,\n")
    assembled = assemble_lucas({"soil": soil})
    table, columns = assembled.table, assembled.columns
    assert columns["predictors"] == ["lc0_desc=Cropland", "lc0_desc=Grassland", "lc0_desc=Woodland"]
    assert table["lc0_desc=Grassland"].tolist()[:4] == [0.0, 1.0, 0.0, 0.0] and table["lc0_desc"][1] == "Grassland"
    assert table.loc[9, ["lc0_desc=Cropland", "lc0_desc=Woodland"]].isna().all()  # no class given: missing, not 0
    assert columns["units"]["lc0_desc=Cropland"] == "0/1"
    report = "\n".join(assembled.report)
    assert "land cover lc0_desc: 3 classes offered as one-hot predictors (0/1)" in report
    assert "1 of 10 points lack a forcing or predictor value (lc0_desc=Cropland (1)" in report


def test_lucas_then_train_leaves_out_the_points_without_covariates(files, tmp_path, capsys):
    covariates = pd.read_parquet(files["covariates"])
    covariates.loc[covariates.index[-5:], "MAT"] = np.nan  # five points lack the temperature
    covariates.loc[covariates.index[-2:], "ndvi"] = np.nan
    covariates.to_parquet(files["covariates"], index=False)
    out = tmp_path / "lucas.parquet"
    assert main(["data", "lucas", "--soil", str(files["soil"]), "--covariates", str(files["covariates"]),
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "5 of 59 points lack a forcing or predictor value (MAT (5), ndvi (2)); train leaves them out" in printed
    unused = next(line for line in printed.splitlines() if line.startswith("not predictors ("))
    assert "ph_h2o" in unused and "n, p" in unused and "add them to the column map's predictors" in unused
    run = ["train", "--model", "soc", "--roles", "all_global", "--targets", "soc", "--data", str(out), "--columns",
           str(tmp_path / "lucas.columns.json"), "--epochs", "2", "--quiet"]
    assert main([*run, "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "lucas.parquet: 5 of 59 rows left out of training: missing MAT (5), ndvi (2); id(s) '1055', '1056', " \
           "'1057', '1058', '1059'" in err
    assert "drop_incomplete: true" in (tmp_path / "run" / "plan.yaml").read_text()
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["data_notes"] == [err.strip().splitlines()[0]]
    assert metrics["n_train"] + metrics["n_val"] == 54
    assert main([*run, "--no-drop-incomplete", "--out", str(tmp_path / "refused")]) == 2
    assert "column 'MAT' has 5 missing value(s), rows 56, 57, 58" in capsys.readouterr().err
