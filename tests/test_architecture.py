"""The layers hold: import-linter's contracts (pyproject.toml) pass on the code, and fail when an
upward import or a cycle is planted in a copy of it; no module grows past its size."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())", "--no-cache", "--no-logo"]
#: "no module over about 300 lines"
MAX_LINES = 320


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_an_upward_import_inside_a_function_breaks_the_contracts(tmp_path):
    for package in ("core", "app"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / "core" / "metrics.py", "a") as handle:  # metrics -> store -> ... -> metrics
        handle.write("\n\ndef _planted():\n    from .run.store import write_run\n\n    return write_run\n")
    with open(tmp_path / "app" / "training" / "pool.py", "a") as handle:  # training -> ui: upward
        handle.write("\n\ndef _planted():\n    from app.ui import page\n\n    return page\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    for contract in ("core imports downward only BROKEN", "the dashboard imports downward only BROKEN",
                     "no import cycles between the siblings of any package BROKEN"):
        assert contract in " ".join(result.stdout.split()), result.stdout[-3000:]
    assert "core.metrics -> core.run.store" in result.stdout


def test_no_module_is_longer_than_the_limit():
    long = {str(path.relative_to(ROOT)): n for package in ("core", "app") for path in (ROOT / package).rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules (over {MAX_LINES} lines): {long}"


#: public classes whose instances are made without arguments (hooks to override, column names)
NO_ARGUMENTS = {"RunObserver", "HistoryColumns"}


def test_the_public_api_documents_its_parameters_and_returns():
    import inspect

    import core

    missing = []
    for name in core.__all__:
        function = inspect.unwrap(getattr(core, name))
        if inspect.isclass(function) and not issubclass(function, Exception) and name not in NO_ARGUMENTS:
            if "Parameters\n----------" not in (inspect.getdoc(function) or ""):
                missing.append(name)
        if not inspect.isfunction(function):
            continue
        doc = inspect.getdoc(function) or ""
        takes = bool(inspect.signature(function).parameters)
        if (takes and "Parameters\n----------" not in doc) or "Returns\n-------" not in doc:
            missing.append(name)
    assert not missing, f"numpydoc Parameters/Returns sections missing in: {', '.join(missing)}"
