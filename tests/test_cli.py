import json

import pandas as pd
import pytest

from core.cli import main


def _err_lines(capsys):
    return [l for l in capsys.readouterr().err.splitlines() if l.strip()]


@pytest.mark.parametrize("args,message", [
    (["train", "--model", "soil9", "--out", "x"], "unknown model 'soil9'"),
    (["train", "--roles", "{\"qten\": \"neural\"}", "--out", "x"], "unknown parameter 'qten'"),
    (["train", "--roles", "five_neural", "--out", "x"], "unknown preset 'five_neural'"),
    (["train", "--split", "random", "--out", "x"], "unknown split 'random'"),
    (["train", "--optimizer", "sgd", "--out", "x"], "unknown optimizer 'sgd'"),
    (["train", "--data", "nothing.csv", "--columns", "{\"id\": \"a\", \"targets\": {\"reco\": \"r\"}}", "--out", "x"],
     "nothing.csv: no such file"),
    (["train", "--data", "nothing.csv", "--out", "x"], "needs a column mapping"),
    (["train", "--epochs", "ten", "--out", "x"], "invalid int value: 'ten'"),
    (["train"], "required: --out"),
    (["predict", "--run", "no-such-run", "--input", "x.csv"], "not a run directory"),
])
def test_bad_input_gives_one_clear_line_and_exit_2(capsys, args, message):
    try:
        code = main(args)
    except SystemExit as e:
        code = e.code
    assert code == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and message in lines[0], lines


def test_train_then_predict(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model", "respiration", "--n-sites", "20", "--epochs", "3", "--hidden", "8",
                 "--out", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "mean validation KGE" in text and "q10" in text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3
    inp = json.dumps([{"moisture": 0.2, "soil_n": 1.0, "clay": 20, "elev": 300, "temp": t} for t in (5, 15, 25)])
    assert main(["predict", "--run", str(out), "--input", inp, "--out", str(tmp_path / "p.csv")]) == 0
    pred = pd.read_csv(tmp_path / "p.csv")
    assert list(pred["reco_pred"]) == sorted(pred["reco_pred"])  # respiration rises with temperature
    assert pred["rb"].nunique() == 1  # same soil, same Rb


def test_models_lists_parameters(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "respiration" in out and "q10" in out and "nn:" in out
