"""Issue #37, the ``data lucas`` parts: outputs written together (F3) and never onto an input
(F4), column names (F7), the number parser (F8), physical ranges (F9), tab-separated files with
decimal commas (F10), encodings (F11), sizes (F13), and bad input as one line (F15)."""
import os
import resource
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from core.cli import main
from core.errors import DataError
from core.datasets.surveys import LucasOptions, ReadOptions, assemble_lucas
from core.datasets.surveys.numbers import FLOAT32_MAX, MISSING, NOT_A_NUMBER, NOT_FINITE, NUMBER, OTHER_MARK, parse_number

OUTPUTS = ("t.parquet", "t.columns.json", "t.report.md")


def _write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _run(capsys, *args):
    code = main(["data", "lucas", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# F3: a full disk (here: a file size limit, as a full disk answers a write) leaves the earlier output whole


@pytest.mark.slow  # two `hybridlab data lucas` processes
def test_a_failed_write_leaves_the_earlier_table_and_its_sidecars(tmp_path):
    rows = "".join(f"{k},{10 + k % 50}.{k % 10},{k % 9}.5\n" for k in range(20000))
    _write(tmp_path / "soil.csv", "POINTID,OC,N\n" + rows)
    command = [sys.executable, "-m", "core", "data", "lucas", "--soil", "soil.csv", "--out", "t.parquet"]
    assert subprocess.run(command, cwd=tmp_path, capture_output=True).returncode == 0
    _write(tmp_path / "soil.csv", "POINTID,OC,N\n" + rows.replace(".5\n", ".7\n"))
    before = {name: (tmp_path / name).read_bytes() for name in OUTPUTS}

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    done = subprocess.run([*command, "--overwrite"], cwd=tmp_path, capture_output=True, text=True,
                          preexec_fn=small_disk)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert {name: (tmp_path / name).read_bytes() for name in OUTPUTS} == before
    assert sorted(os.listdir(tmp_path)) == sorted(["soil.csv", *OUTPUTS])  # no partial file left behind


def test_overwrite_replaces_only_an_earlier_table_of_data_lucas(tmp_path, capsys):
    soil = _write(tmp_path / "soil.csv", "POINTID,OC\n1,10\n2,20\n")
    pd.DataFrame({"mine": [1.0]}).to_parquet(tmp_path / "t.parquet")
    code, _, err = _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet", "--overwrite")
    assert code == 2 and "not written by hybridlab" in err
    assert list(pd.read_parquet(tmp_path / "t.parquet").columns) == ["mine"]
    (tmp_path / "t.parquet").unlink()
    assert _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet")[0] == 0
    _write(tmp_path / "soil.csv", "POINTID,OC\n1,11\n2,21\n")
    assert _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet", "--overwrite")[0] == 0
    assert pd.read_parquet(tmp_path / "t.parquet")["oc"].tolist() == [11, 21]


# F4: inputs and outputs compared by file identity


def test_an_output_that_is_an_input_under_another_name_is_refused(tmp_path, capsys):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n1,10\n")
    pd.DataFrame({"POINTID": [1], "x": [0.5]}).to_parquet(tmp_path / "c.parquet")
    original = (tmp_path / "c.parquet").read_bytes()
    os.link(tmp_path / "c.parquet", tmp_path / "o.parquet")
    code, _, err = _run(capsys, "--soil", soil, "--covariates", tmp_path / "c.parquet", "--out", tmp_path / "o.parquet",
                        "--overwrite")
    assert code == 2 and (tmp_path / "c.parquet").read_bytes() == original
    _one_line_error(err, "input")
    os.link(soil, tmp_path / "n.report.md")  # a sidecar's name linked to the soil file
    code, _, err = _run(capsys, "--soil", soil, "--out", tmp_path / "n.parquet", "--overwrite")
    assert code == 2 and soil.read_text() == "POINTID,OC\n1,10\n"
    _one_line_error(err, "n.report.md", "input")


# F7: column names


@pytest.mark.parametrize("header, named", [
    ("POINTID,OC,OC,pH_H2O", ["'OC'", "columns 2 and 3"]),
    ("POINTID,OC,pH_H2O,pH(H2O)", ["'pH_H2O'", "'pH(H2O)'"]),
    ("POINTID,OC,N,n", ["'N'", "'n'"]),
    ("POINTID,OC,Point ID,pH", ["'POINTID'", "'Point ID'", "point id"]),
])
def test_repeated_and_colliding_names_are_refused_naming_both(tmp_path, capsys, header, named):
    soil = _write(tmp_path / "s.csv", header + "\n1,10,6,9.9\n2,20,6.5,9.8\n")
    code, _, err = _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet")
    assert code == 2 and not (tmp_path / "t.parquet").exists()
    _one_line_error(err, "s.csv", *named)


def test_a_target_among_the_covariates_or_a_name_across_files_is_refused(tmp_path):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n1,10\n2,20\n")
    for name in ("OC", "moc", "SOC density"):
        pd.DataFrame({"POINTID": [1, 2], name: [1.0, 2.0], "ndvi": [0.1, 0.2]}).to_parquet(tmp_path / "c.parquet")
        with pytest.raises(DataError, match=f"covariate '{name}' has a target's name"):
            assemble_lucas({"soil": soil, "covariates": tmp_path / "c.parquet"})
    texture = _write(tmp_path / "tex.csv", "POINTID,Clay\n1,20\n2,30\n")
    pd.DataFrame({"POINTID": [1, 2], "clay": [200.0, 300.0]}).to_parquet(tmp_path / "c.parquet")
    with pytest.raises(DataError, match=r"c.parquet: column 'clay' is column 'Clay' of tex.csv"):
        assemble_lucas({"soil": soil, "texture": texture, "covariates": tmp_path / "c.parquet"})


# F8: the number parser


def test_text_that_float_would_take_is_counted_not_a_number(tmp_path):
    cells = ["inf", "1e999", "Infinity", "1_5", "\u0663\u0664", "nan", "-inf", "0x10", "1.5.2", "12", "3.5"]
    rows = "".join(f"{k},{cell}\n" for k, cell in enumerate(cells, 1))
    soil = _write(tmp_path / "s.csv", "POINTID,OC,P\n" + rows.replace("\n", ",5\n"))
    assembled = assemble_lucas({"soil": soil})
    oc = assembled.table.set_index("point_id")["oc"]
    assert oc.isna().sum() == 9 and oc["10"] == 12 and oc["11"] == 3.5 and np.isfinite(oc.dropna()).all()
    report = "\n".join(assembled.report)
    assert "not a finite number (inf, nan or beyond float32), taken as missing: 5 value(s) in oc (5)" in report
    assert "not a number, taken as missing: 4 value(s) in oc (4)" in report
    assert "s.csv: column OC, row 3: '1e999' is not a finite number; taken as missing" in report
    assert "s.csv: column OC, row 6: '\u0663\u0664' is not a number; taken as missing" in report


def test_infinite_values_of_a_parquet_covariate_are_counted(tmp_path):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n1,10\n2,20\n3,30\n")
    pd.DataFrame({"POINTID": [1, 2, 3], "ndvi": [0.5, np.inf, 1e300]}).to_parquet(tmp_path / "c.parquet")
    assembled = assemble_lucas({"soil": soil, "covariates": tmp_path / "c.parquet"})
    assert assembled.table["ndvi"].isna().tolist() == [False, True, True]
    assert "c.parquet: column ndvi, row 2: inf is not a finite number" in "\n".join(assembled.report)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-FLOAT32_MAX, max_value=FLOAT32_MAX), st.sampled_from([".", ","]))
def test_any_finite_number_written_with_either_mark_parses_back_exactly(x, mark):
    for text in (repr(x), f"{x:.17e}", f"{x:f}", f"{x:+.3g}"):
        status, value = parse_number(text.replace(".", mark), mark)
        assert status == NUMBER and value == float(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789.,eE+-_ xinfaINF\u0663\u2212\u00a0"), max_size=8)
       | st.text(max_size=6), st.sampled_from([".", ","]))
def test_any_other_text_is_never_a_number(text, mark):
    status, value = parse_number(text, mark)
    cell = text.strip(" \t\r\n")
    allowed = set("0123456789eE+-\u2212" + mark)
    if not cell:
        assert status == MISSING
    elif not set(cell) <= allowed or cell.count(mark) > 1:
        assert status in (NOT_A_NUMBER, NOT_FINITE, OTHER_MARK) and np.isnan(value)
    if status == NUMBER:
        assert set(cell) <= allowed and np.isfinite(value)
        assert value == float(cell.replace("\u2212", "-").replace(mark, "."))
    else:
        assert np.isnan(value)


# F9: physical ranges


@pytest.mark.parametrize("cf", [["0.1", "0.2", "0.3", "5"], ["0.05", "35", "12"]])
def test_coarse_fragments_in_two_units_are_refused(tmp_path, cf):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n" + "".join(f"{k},10\n" for k in range(len(cf))))
    bd = _write(tmp_path / "bd.csv", "POINTID,BD,CF\n" + "".join(f"{k},1.2,{c}\n" for k, c in enumerate(cf)))
    with pytest.raises(DataError, match=r"bd.csv: column CF mixes fractions and percentages .*--coarse-fragments"):
        assemble_lucas({"soil": soil, "bulk_density": bd})
    table = assemble_lucas({"soil": soil, "bulk_density": bd},
                           options=LucasOptions(coarse_fragments="percent")).table
    assert table["coarse_fragments"].tolist() == pytest.approx([float(c) / 100 for c in cf])


def test_impossible_values_are_missing_and_counted_never_a_density(tmp_path):
    soil = _write(tmp_path / "s.csv", "POINTID,OC,Clay\n1,10,20\n2,20,120\n3,-4,30\n4,15,30\n5,12,30\n")
    bd = _write(tmp_path / "bd.csv", "POINTID,BD 0-20,CF 0-20\n1,-1.2,10\n2,1.1,140\n3,1.2,5\n4,3.5,0\n5,1.3,-5\n")
    assembled = assemble_lucas({"soil": soil, "bulk_density": bd})
    table = assembled.table.set_index("point_id")
    assert table["soc_density"].notna().sum() == 0 and not (table["soc_density"] < 0).any()
    assert np.isnan(table.loc["2", "clay"]) and np.isnan(table.loc["1", "bd"]) and np.isnan(table.loc["4", "bd"])
    report = "\n".join(assembled.report)
    assert "outside the physical range, taken as missing: 6 value(s)" in report
    assert "bd.csv: column BD 0-20, row 2: -1.2 is outside 0.05-2.65 g cm-3 (bd); taken as missing" in report
    assert "bd.csv: column CF 0-20, row 3: 140 is outside 0-100 % (coarse_fragments)" in report
    assert "SOC density (OC · BD · (1 − CF), kg m-3) for 0 of 5 points" in report


# F10: a tab-separated file with decimal commas


def test_a_tab_separated_file_with_decimal_commas(tmp_path, capsys):
    soil = _write(tmp_path / "s.tsv", "POINTID\tOC\tpH_H2O\n1\t10,5\t6,1\n2\t20,25\t6,2\n")
    table = assemble_lucas({"soil": soil}).table
    assert table["oc"].tolist() == [10.5, 20.25] and table["ph_h2o"].tolist() == [6.1, 6.2]
    mixed = _write(tmp_path / "m.tsv", "POINTID\tOC\tpH_H2O\n1\t10,5\t6.1\n2\t20\t6.2\n")
    code, _, err = _run(capsys, "--soil", mixed, "--out", tmp_path / "t.parquet")
    assert code == 2
    _one_line_error(err, "m.tsv: decimal marks mixed", "column OC, row 2: '10,5'", "column pH_H2O, row 2: '6.1'")
    chosen = assemble_lucas({"soil": mixed}, options=LucasOptions(read=ReadOptions(decimal_mark=","))).table
    assert chosen["oc"].tolist() == [10.5, 20] and chosen["ph_h2o"].isna().all()


# F11: encodings


def test_a_file_that_is_not_utf8_is_refused_never_half_decoded(tmp_path, capsys):
    mixed = _write(tmp_path / "m.csv", b"POINTID,OC,LC\n1,10,Gr\xc3\xbcnland\n2,20,G\xe4rten\n")
    code, _, err = _run(capsys, "--soil", mixed, "--out", tmp_path / "t.parquet")
    assert code == 2 and not (tmp_path / "t.parquet").exists()
    _one_line_error(err, "m.csv: line 3", "0xE4", "--encoding cp1252")
    stray = _write(tmp_path / "b.csv", b"POINTID,OC\n1,10\n2,2\x81\n")  # F15: not cp1252 either
    code, _, err = _run(capsys, "--soil", stray, "--out", tmp_path / "t.parquet")
    assert code == 2
    _one_line_error(err, "b.csv: line 3", "0x81")
    code, _, err = _run(capsys, "--soil", stray, "--out", tmp_path / "t.parquet", "--encoding", "cp1252")
    assert code == 2
    _one_line_error(err, "b.csv: line 3", "0x81", "cp1252")
    code, _, err = _run(capsys, "--soil", stray, "--out", tmp_path / "t.parquet", "--encoding", "klingon")
    assert code == 2
    _one_line_error(err, "unknown encoding 'klingon'")


def test_a_windows_1252_file_with_semicolons_and_decimal_commas_reads_with_its_encoding(tmp_path, capsys):
    soil = _write(tmp_path / "s.csv", "POINTID;OC;LC\n1;10,5;Gärten\n2;20,5;Grünland\n".encode("cp1252"))
    assert _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet", "--encoding", "cp1252")[0] == 0
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert table["oc"].tolist() == [10.5, 20.5] and table["lc"].tolist() == ["Gärten", "Grünland"]
    utf16 = _write(tmp_path / "u.csv", "POINTID,OC\n1,10\n".encode("utf-16"))
    code, _, err = _run(capsys, "--soil", utf16, "--out", tmp_path / "u.parquet")
    assert code == 2
    _one_line_error(err, "u.csv: line 1", "--encoding utf-16")


# F13: sizes checked before reading


def test_files_beyond_the_size_limits_are_refused_before_reading(tmp_path, capsys):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n" + "".join(f"{k},{k % 40 + 1}\n" for k in range(2000)))
    code, _, err = _run(capsys, "--soil", soil, "--out", tmp_path / "t.parquet", "--max-bytes", 10_000)
    assert code == 2
    _one_line_error(err, "s.csv", "more than --max-bytes 10000")
    wide = _write(tmp_path / "w.csv", "POINTID," + ",".join(f"c{k}" for k in range(300)) + "\n1" + ",1" * 300 + "\n")
    code, _, err = _run(capsys, "--soil", soil, "--covariates", wide, "--out", tmp_path / "t.parquet",
                        "--max-columns", 100)
    assert code == 2
    _one_line_error(err, "w.csv: 301 columns, more than --max-columns 100")
    pd.DataFrame({"POINTID": np.arange(2000), "x": np.zeros(2000)}).to_parquet(tmp_path / "c.parquet")
    code, _, err = _run(capsys, "--soil", soil, "--covariates", tmp_path / "c.parquet", "--out",
                        tmp_path / "t.parquet", "--max-bytes", 20_000)
    assert code == 2
    _one_line_error(err, "c.parquet: 2000 rows x 2 columns, about", "more than --max-bytes 20000")
    assert not (tmp_path / "t.parquet").exists()


# F15: Parquet covariates of other types


def test_parquet_covariates_of_dates_and_true_false(tmp_path, capsys):
    soil = _write(tmp_path / "s.csv", "POINTID,OC\n1,10\n2,20\n3,30\n")
    pd.DataFrame({"POINTID": [1, 2, 3], "sampled": pd.to_datetime(["2018-05-01", "2018-06-01", "2018-07-01"]),
                  "irrigated": [True, False, True], "ndvi": [0.1, 0.2, 0.3]}).to_parquet(tmp_path / "c.parquet")
    code, out, _ = _run(capsys, "--soil", soil, "--covariates", tmp_path / "c.parquet", "--out", tmp_path / "t.parquet")
    assert code == 0
    assert "column irrigated: true/false taken as 1/0" in out and "column sampled: dates or durations" in out
    table = pd.read_parquet(tmp_path / "t.parquet")
    assert table["irrigated"].tolist() == [1.0, 0.0, 1.0]
    assert "predictors (2): irrigated, ndvi" in out
    pd.DataFrame({"POINTID": [1, 2, 3], "flag": pd.array([True, None, False], dtype="boolean")}).to_parquet(
        tmp_path / "g.parquet", index=True)  # a gap in true/false; pandas' row numbers stored as a column
    table = assemble_lucas({"soil": soil, "covariates": tmp_path / "g.parquet"}).table
    assert list(table.columns) == ["point_id", "oc", "flag"] and table["flag"].isna().tolist() == [False, True, False]
    pd.DataFrame({"POINTID": [1, 2, 3], "tags": [[1], [2], [3]]}).to_parquet(tmp_path / "l.parquet")
    code, _, err = _run(capsys, "--soil", soil, "--covariates", tmp_path / "l.parquet", "--out",
                        tmp_path / "l2.parquet")
    assert code == 2
    _one_line_error(err, "l.parquet: column tags holds list")
