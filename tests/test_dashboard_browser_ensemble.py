"""An ensemble in the served dashboard (``hybridlab serve``, trainings on one Dask worker, one
training slot), in Debian's chromium: three members are one job of the pool (a second page waits
behind one job, not three), the finished ensemble is one run with intervals from its members'
spread and verdicts on the rows, and the news crossed the Dask queue without the pickle fallback."""
import os
import subprocess
import sys

import pytest

from browser_support import ROOT, SHOTS, free_port, open_page, require_chromium, set_number, wait_for_url, stop_server

require_chromium()
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ensemble-server")
    port = free_port()
    log_path = folder / "server.log"
    log = open(log_path, "wb")  # a pipe nobody reads would fill and stall the server
    env = {**os.environ, "HYBRIDLAB_TORCH_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "1",
                             "--max-trainings", "1"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, proc, log_path=log_path)
    yield url, log_path
    stop_server(proc)
    log.close()


def _respiration(page, sites, epochs):
    page.locator(".model-select select").select_option("respiration")
    page.locator(".param-row-rb").wait_for(timeout=30_000)
    set_number(page, ".n-sites", sites)
    set_number(page, ".epochs", epochs)
    set_number(page, ".patience", epochs)


def test_an_ensemble_of_three_is_one_pool_job_with_intervals_from_its_members(served, browser):
    url, log_path = served
    ensemble, other = open_page(browser, url), open_page(browser, url)
    _respiration(ensemble, 60, 80)
    set_number(ensemble, ".ensemble", 3)
    ensemble.locator(".intervals input").check()
    _respiration(other, 20, 5)
    ensemble.get_by_role("button", name="Train", exact=True).click()
    ensemble.locator(".status", has_text="training").wait_for(timeout=90_000)
    other.get_by_role("button", name="Train", exact=True).click()
    # one slot, taken by the ensemble: the other page waits behind one job, not behind three members
    other.locator(".status", has_text="queued").wait_for(timeout=30_000)
    assert other.locator(".queue-place").inner_text() == "1" and "position 1 of 1" in other.locator(".status").evaluate(
        "node => node.parentElement.innerText")
    ensemble.locator(".status", has_text="finished").wait_for(timeout=300_000)
    # the members' agreement is added to the message in the next sync after the run is in
    ensemble.locator(".message", has_text="ensemble of 3 members").wait_for(timeout=60_000)
    message = ensemble.locator(".message").inner_text()
    assert "of the 3 members' mean" in message and "ensemble of 3 members" in message, message
    assert ensemble.locator(".interval-source").inner_text() == "the spread of its 3 members"
    assert "90 % interval covers" in ensemble.locator(".coverage-values").inner_text()
    badge = ensemble.locator(".param-row-rb .agreement")
    badge.wait_for(timeout=30_000)
    # the members share one split: their agreement is shown, the verdict withheld (docs/identifiability.md)
    assert badge.inner_text().startswith("no verdict"), badge.inner_text()
    ensemble.screenshot(path=str(SHOTS / "ensemble_one_job.png"), full_page=True)
    ensemble.get_by_text("Compare runs", exact=True).click()
    rows = ensemble.locator(".tabulator-row")
    rows.filter(has_text="#1 respiration default ensemble of 3").wait_for(timeout=30_000)
    assert rows.count() == 1  # one row for the ensemble, none per member
    other.locator(".status", has_text="finished").wait_for(timeout=120_000)
    log = log_path.read_text(errors="replace")
    assert "Failed to serialize" not in log, log[-2000:]
    ensemble.close()
    other.close()
