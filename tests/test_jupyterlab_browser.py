"""The dashboard in a real JupyterLab: ``jupyter lab`` headless, a notebook opened in Chromium by
Playwright, its cell run, Train clicked, and the KGE readout watched as it changes."""
import subprocess
import sys
import time

import pytest
from browser_support import SHOTS, free_port, require_chromium, wait_for_url, wait_until, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
require_chromium()

CELL = "from app import dashboard\ndashboard()"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A headless JupyterLab serving a folder with one notebook; yields its URL."""
    import nbformat  # here, not at collection: its schema validator takes seconds to import

    root = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "dashboard.ipynb")
    port, log = free_port(), root / "lab.log"
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
               f"--LabApp.workspaces_dir={root / 'workspaces'}", f"--LabApp.user_settings_dir={root / 'settings'}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=root)
    try:
        wait_for_url(f"http://127.0.0.1:{port}/lab", process, 90, log_path=log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def run_first_cell(page) -> None:
    """Run the notebook's first cell once the kernel answers (a keypress before that is lost)."""
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=90_000)
    for _ in range(10):
        page.locator(".jp-Notebook .jp-Cell .cm-content").first.click()
        page.keyboard.press("Control+Enter")
        time.sleep(2)
        if page.locator(".jp-InputPrompt").first.inner_text().strip() not in ("[ ]:", ""):
            return
    raise AssertionError("the notebook cell did not start")


def test_dashboard_trains_live_in_jupyterlab(lab, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    errors, offline = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: offline.append(request.url))
    page.goto(f"{lab}/lab/tree/dashboard.ipynb")
    run_first_cell(page)
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for(timeout=120_000)
    kge = page.locator(".kge-values")
    train.click()
    kge.wait_for(timeout=120_000)
    first = kge.inner_text()
    wait_until(lambda: kge.inner_text() != first, 60)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "jupyterlab.png"))
    page.get_by_role("button", name="Stop", exact=True).click()
    # a stopped run ends after its current batch, then is evaluated and kept: how long that takes
    # depends on the machine and its load, so the test waits for the state, not for a time
    # (stopping within an epoch is tested in tests/test_training.py)
    wait_until(lambda: page.locator(".status").first.inner_text() in ("stopped", "finished"), 120)
    assert not errors, errors
    print("failed requests:", offline)
    page.close()
