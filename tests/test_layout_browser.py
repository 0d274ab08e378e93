"""The page's layout at common laptop and desktop sizes: nothing wider than the window, no card
over another, plots inside the window; a screenshot per size in tests/browser_shots/."""
import subprocess
import sys
import time

import pytest

from browser_support import ROOT, SHOTS, free_port, require_chromium, set_number, wait_for_url, wait_until, stop_server

require_chromium()
pytestmark = [pytest.mark.slow, pytest.mark.browser]

SIZES = [(1366, 768), (1440, 900), (1920, 1080)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port, log = free_port(), tmp_path_factory.mktemp("layout") / "serve.log"
    with open(log, "w") as output:
        process = subprocess.Popen([sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "app.py"), "--port",
                                    str(port), "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
                                   stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, process, log_path=log)
    yield url
    stop_server(process)


def box(page, css):
    return page.locator(css).first.bounding_box()


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


# the plots that reach past the window's right edge (Bokeh draws inside shadow roots)
OUTSIDE = """() => { const out = []; const walk = (root) => { for (const e of root.querySelectorAll(".bk-Figure")) {
  const r = e.getBoundingClientRect(); if (r.width > 0 && r.right > innerWidth + 1) out.push(Math.round(r.right)); }
  for (const e of root.querySelectorAll("*")) if (e.shadowRoot) walk(e.shadowRoot); }; walk(document); return out; }"""


# how many plots are drawn, in shadow roots too
FIGURES = """() => { let n = 0; const walk = (root) => { n += root.querySelectorAll(".bk-Figure").length;
  for (const e of root.querySelectorAll("*")) if (e.shadowRoot) walk(e.shadowRoot); }; walk(document); return n; }"""


def settled(read, quiet: float = 4.0, seconds: float = 60.0):
    """Wait until ``read()`` has not changed for ``quiet`` seconds."""
    last, since, end = read(), time.monotonic(), time.monotonic() + seconds
    while time.monotonic() < end and time.monotonic() - since < quiet:
        time.sleep(0.5)
        value = read()
        if value != last:
            last, since = value, time.monotonic()


@pytest.mark.parametrize("width,height", SIZES)
def test_nothing_clipped_or_overlapping(server, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(server)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=90_000)
    page.locator(".parameter-list").wait_for(timeout=30_000)  # built once the page shows
    # the training settings card sits below the parameter list, not over it
    parameters, settings = box(page, ".parameter-list"), box(page, ".training-settings")
    assert settings["y"] >= parameters["y"] + parameters["height"] - 1, (parameters, settings)
    # the opened upload card pushes the model select down
    page.locator(".upload-card .card-header").first.click()
    page.locator(".upload-limits").wait_for(timeout=10_000)
    wait_until(lambda: box(page, ".model-select")["y"] >= box(page, ".upload-card")["y"]
               + box(page, ".upload-card")["height"] - 1, 5)
    page.locator(".upload-card .card-header").first.click()
    # train a little, and look at every tab while it trains
    set_number(page, ".n-sites", 300)
    set_number(page, ".patience", 5000)
    set_number(page, ".epochs", 5000)  # still training when Stop is pressed, however fast the machine
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".kge-values").wait_for(timeout=90_000)
    page.locator(".scatter-plots canvas").first.wait_for(timeout=30_000)
    wait_until(lambda: page.locator(".bk-Figure").count() >= 9, 30)
    assert page_width(page) <= width, f"the page is {page_width(page)} px wide in a {width} px window"
    for index in range(page.locator(".bk-Figure").count()):
        plot = page.locator(".bk-Figure").nth(index).bounding_box()
        assert plot["width"] > 150 and plot["x"] + plot["width"] <= width + 1, (index, plot)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"layout-{width}x{height}.png"), full_page=True)
    for tab in ("Parameters", "Model"):
        page.get_by_text(tab, exact=True).first.click()
        settled(lambda: page.evaluate(FIGURES))  # the tab draws its views one at a time
        assert not page.evaluate(OUTSIDE), f"{tab}: plots end past the window at {page.evaluate(OUTSIDE)} px"
        assert page_width(page) <= width, f"{tab}: the page is {page_width(page)} px wide in a {width} px window"
    # Stop from the Training tab: when every view of the visited tabs was redrawn on each snapshot,
    # the event loop was busy for seconds at a time and Stop waited up to 117 s
    page.get_by_text("Training", exact=True).first.click()
    page.get_by_role("button", name="Stop", exact=True).click()
    start = time.perf_counter()
    wait_until(lambda: page.locator(".status").first.inner_text() in ("stopped", "finished"), 120)
    print(f"{width}x{height}: stopped after {time.perf_counter() - start:.1f} s")
    page.close()
