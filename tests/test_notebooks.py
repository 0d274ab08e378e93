"""Every teaching notebook in notebooks/ runs top to bottom on small data (HYBRIDLAB_QUICK=1), in a
real Jupyter kernel through nbclient; any cell error fails the test."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

pytestmark = pytest.mark.slow


def test_there_are_notebooks_to_teach_with():
    assert len(NOTEBOOKS) >= 4, [n.name for n in NOTEBOOKS]


def test_the_readme_lists_every_notebook():
    """The README's numbered list of teaching notebooks names each file in notebooks/, and no other."""
    readme = (ROOT / "README.md").read_text()
    listed = sorted(set(re.findall(r"^\d+\. `(\d\d-[a-z0-9-]+)`", readme, flags=re.MULTILINE)))
    assert listed == [n.stem for n in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDLAB_QUICK", "1")
    monkeypatch.setenv("HYBRIDLAB_NOTEBOOK_OUT", str(tmp_path / "runs"))
    import nbformat  # here, not at collection: its schema validator takes seconds to import
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # the kernel starts in the notebook's folder, as in JupyterLab; the repository is importable
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors, errors
    assert all(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")
    text_only = [output["data"]["text/plain"] for output in _display_outputs(notebook)
                 if str(output["data"].get("text/plain", "")).startswith("<Figure size") and "image/png" not in output["data"]]
    assert not text_only, f"{path.name}: a figure was saved as text only: {text_only}"


def _display_outputs(notebook) -> list[dict]:
    """The rich outputs (display_data, execute_result) of every code cell."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
            if output.get("output_type") in ("display_data", "execute_result")]
