"""`hybridlab serve --grid`: each finished run mapped over the server's grid, in headless Chromium."""
import subprocess
import sys
import time

import pytest

from browser_support import SHOTS, free_port, open_page, require_chromium, set_number, wait_for_url, wait_until, stop_server

require_chromium()
pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


# the axis ranges of the map figures in the page's Bokeh documents (their titles name the CRS)
MAP_RANGES = """() => { const out = []; for (const doc of window.Bokeh ? Bokeh.documents : [])
  for (const m of (doc.all_models || doc._all_models.values())) {
  const title = m.title && m.title.text; if (typeof title === "string" && title.includes("EPSG:4326") && m.x_range)
    out.push([title, m.x_range.start, m.x_range.end, m.y_range.start, m.y_range.end]); } return out; }"""


@pytest.fixture(scope="module")
def server_with_grid(tmp_path_factory):
    from core.bench.maps import write_grid

    folder = tmp_path_factory.mktemp("grid")
    write_grid(folder / "europe.zarr", (60, 80), chunk=32)  # every covariate and forcing of lucas-synthetic
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--grid",
                                str(folder / "europe.zarr")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, process, 90)
    yield url
    stop_server(process)


def test_a_finished_run_is_mapped_over_the_grid(server_with_grid, browser):
    page = open_page(browser, server_with_grid)
    set_number(page, ".n-sites", 600)
    set_number(page, ".epochs", 6)
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".status", has_text="finished").wait_for(timeout=120_000)
    page.get_by_text("Parameters", exact=True).click()
    title = page.get_by_text("Maps over the server's covariate grid")
    title.wait_for(timeout=30_000)
    page.set_viewport_size({"width": 1700, "height": 6000})  # the whole tab, maps at its foot, in one picture
    # the tab redraws one view at a time, the maps last: wait until they are in the page's documents
    wait_until(lambda: len(page.evaluate(MAP_RANGES)) >= 4 + 5, 120)
    time.sleep(3)  # the images draw on canvases (no text in the page to wait for)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "grid_map.png"))
    assert page.get_by_text("start the dashboard with").count() == 0
    assert page.get_by_text("cannot map this run").count() == 0
    # every map is framed to the grid's extent (write_grid: 10 W-30 E, 35-70 N), not widened to 0 by
    # axes linked to another plot of the tab
    ranges = page.evaluate(MAP_RANGES)
    assert len(ranges) == 4 + 5, ranges  # every target and the five neural parameters
    for title, x_start, x_end, y_start, y_end in ranges:
        assert (x_start, x_end, y_start, y_end) == pytest.approx((-10, 30, 35, 70), abs=1e-6), title
    page.close()
