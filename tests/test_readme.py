import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(capsys):
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert code, "README has no python example"
    example = next(block for block in code if "train(" in block)  # "Your own model in a few lines"
    exec(compile(example, "README.md", "exec"), {})
    best_epoch, kge = capsys.readouterr().out.split()
    assert int(best_epoch) >= 1 and float(kge) > 0.5


def test_readme_test_command_is_the_ci_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install torch==2.13.0 -e ".[test]" && python -m pytest' in README.read_text()
    assert 'pip install -q torch==2.13.0 -e ".[test]"' in ci and "python -m pytest" in ci
