"""The dashboard in a real headless Chromium (Debian's chromium, driven by Playwright)."""
import subprocess
import sys
import time

import pytest

from browser_support import ROOT, SHOTS, free_port, require_chromium, wait_for_url, stop_server
from browser_support import open_page as _open
from browser_support import set_number as _set_number
from browser_support import wait_until as _wait_until

require_chromium()
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "app.py"), "--port", str(port),
                             "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, proc)
    yield url
    stop_server(proc)


def _small_soc(page, sites=400, epochs=5000, patience=None):
    _set_number(page, ".n-sites", sites)
    _set_number(page, ".epochs", epochs)
    if patience is not None:
        _set_number(page, ".patience", patience)


def test_train_watch_and_stop(server, browser):
    page = _open(browser, server)
    t_open = time.perf_counter()
    _small_soc(page, patience=5000)  # runs until Stop
    # toggle q_max from neural to global
    page.locator(".param-row-q_max .role").get_by_role("button", name="global").click()
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".kge-values").wait_for(timeout=90_000)
    first_plot = time.perf_counter() - t_open
    page.locator(".scatter-plots canvas").first.wait_for(timeout=30_000)
    first = page.locator(".kge-values").inner_text()
    _wait_until(lambda: page.locator(".kge-values").inner_text() != first, 60)  # values update live
    assert "SOC" in first and "MBC" in first
    page.screenshot(path=str(SHOTS / "training.png"))
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator(".status", has_text="finished").wait_for(timeout=60_000)
    message = page.locator(".message").inner_text()
    assert "cancelled" in message and "mean validation KGE" in message
    page.get_by_text("Compare runs", exact=True).click()
    page.get_by_text("report: five_neural").wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "compare.png"))
    page.get_by_text("Parameters", exact=True).click()
    page.get_by_text("Global parameters over the epochs").wait_for(timeout=30_000)
    time.sleep(3)
    page.screenshot(path=str(SHOTS / "parameters.png"), full_page=True)
    print(f"first plot {first_plot:.1f} s after the page opened")
    page.close()


def test_invalid_bound_blocks_training(server, browser):
    page = _open(browser, server)
    _set_number(page, ".param-row-cue .lower", 0.9)
    blocked = page.locator(".blocked")
    blocked.wait_for(timeout=30_000)
    text = blocked.inner_text()
    assert "cue" in text and "lower bound 0.9 must be below upper bound 0.8" in text
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()
    assert page.locator(".param-row-cue .row-error").inner_text().strip() != ""
    page.screenshot(path=str(SHOTS / "blocked.png"))
    _set_number(page, ".param-row-cue .lower", 0.05)
    blocked.wait_for(state="detached", timeout=30_000)
    assert page.get_by_role("button", name="Train", exact=True).is_enabled()
    page.close()


def test_two_sessions_train_at_once_with_separate_state(server, browser):
    a, b = _open(browser, server), _open(browser, server)
    _small_soc(a, sites=300, epochs=15)
    b.locator(".model-select select").select_option("respiration")
    _set_number(b, ".n-sites", 30)
    _set_number(b, ".epochs", 15)
    a.get_by_role("button", name="Train", exact=True).click()
    b.get_by_role("button", name="Train", exact=True).click()
    for page in (a, b):
        page.locator(".status", has_text="finished").wait_for(timeout=120_000)
    ka, kb = a.locator(".kge-values").inner_text(), b.locator(".kge-values").inner_text()
    assert "SOC" in ka and "Reco" not in ka
    assert "Reco" in kb and "SOC" not in kb
    assert "max epochs after 15 epochs" in a.locator(".message").inner_text()
    assert "respiration" not in a.locator(".model-select select").input_value()
    a.close()
    b.close()


def test_role_search_from_the_page_shows_its_path_as_it_grows(server, browser):
    page = _open(browser, server)
    page.locator(".model-select select").select_option("respiration")
    page.locator(".param-row-rb").wait_for(timeout=30_000)  # the model's settings are in the form
    _wait_until(lambda: page.locator(".epochs input").first.input_value() == "300", 30)
    _set_number(page, ".n-sites", 60)
    _set_number(page, ".epochs", 40)
    page.get_by_text("Role search", exact=True).click()
    _set_number(page, ".search-seeds", 2)
    page.locator(".search-start button").click()
    page.locator(".search-status", has_text="running").wait_for(timeout=30_000)
    seen_running = set()  # how many steps the table showed while the search still ran
    end = time.time() + 180
    while time.time() < end and page.locator(".search-status").inner_text() != "finished":
        if page.locator(".search-status").inner_text() == "running":
            seen_running.add(page.locator(".path-step").count())
        time.sleep(0.2)
    steps = page.locator(".path-step")
    assert page.locator(".search-status").inner_text() == "finished"
    assert any(0 < count < steps.count() for count in seen_running), seen_running  # the path grew live
    assert steps.count() >= 2 and "rb" in steps.nth(1).inner_text() and "yes" in steps.nth(1).inner_text()
    assert "gain" in page.locator(".search-message").inner_text() or "every candidate" in page.locator(".search-message").inner_text()
    page.locator(".path-current").wait_for(state="detached", timeout=10_000)  # no step left in training
    page.screenshot(path=str(SHOTS / "role_search.png"), full_page=True)
    page.locator(".search-use button").click()
    page.locator(".search-message", has_text="roles put on the form").wait_for(timeout=10_000)
    page.close()


def test_a_calibrated_run_shows_its_coverage_intervals_and_reliability(server, browser):
    page = _open(browser, server)
    _small_soc(page, sites=1500, epochs=25, patience=10)
    page.locator(".intervals input").check()
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".status", has_text="finished").wait_for(timeout=120_000)
    coverage = page.locator(".coverage-values").inner_text()
    assert "90 % interval covers" in coverage and "SOC 0." in coverage
    page.screenshot(path=str(SHOTS / "intervals_training.png"), full_page=True)
    page.get_by_text("Model", exact=True).click()
    page.get_by_text("Prediction intervals: nominal level vs coverage").wait_for(timeout=30_000)
    time.sleep(2)
    page.screenshot(path=str(SHOTS / "intervals_reliability.png"), full_page=True)
    page.close()


def test_ensemble_twins_put_verdicts_with_their_reason_on_hover(server, browser):
    page = _open(browser, server)
    page.locator(".model-select select").select_option("respiration")
    page.locator(".param-row-rb").wait_for(timeout=30_000)
    _set_number(page, ".n-sites", 60)
    _set_number(page, ".epochs", 40)
    _set_number(page, ".ensemble", 2)
    _set_number(page, ".twins", 2)
    page.get_by_role("button", name="Train", exact=True).click()
    badge = page.locator(".param-row-rb .agreement[title^='recovered r']")
    badge.wait_for(timeout=420_000)  # the members, then the twins, through the server's pool (slow on a loaded machine)
    assert " in 2 twins; members agree " in badge.get_attribute("title")
    assert page.locator(".param-row-q10 .agreement").inner_text() == "not tested (same start)"
    badge.hover()
    page.locator(".parameter-list").screenshot(path=str(SHOTS / "twin_badges.png"))
    page.close()
