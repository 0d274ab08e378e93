"""`hybridlab serve --grid` over a grid whose western part lies outside the run's area of applicability:
the parameter maps grey those pixels out, and the Parameters tab gives their share (headless Chromium)."""
import io
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from browser_support import SHOTS, free_port, open_page, require_chromium, set_number, wait_for_url, wait_until, stop_server

require_chromium()
pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROWS, COLUMNS = 60, 80  # x from 10 W to 30 E in 0.5 degree pixels: the 20 western columns lie west of 0
WEST = 20
GREY = (158, 158, 158)  # app.ui.views.grid_map.OUTSIDE_GREY, #9e9e9e

# per map figure (title naming the grid's CRS): the grey overlay's values, as (title, ny, nx, flat values)
GREY_IMAGES = """() => { const out = []; for (const doc of window.Bokeh ? Bokeh.documents : [])
  for (const m of (doc.all_models || doc._all_models.values())) {
    const title = m.title && m.title.text; if (typeof title !== "string" || !title.includes("EPSG:4326") || !m.renderers) continue;
    for (const r of m.renderers) { const g = r.glyph, mapper = g && g.color_mapper;
      if (!mapper || !mapper.palette || mapper.palette.length !== 1 || mapper.palette[0] !== "#9e9e9e") continue;
      const image = r.data_source.data.image[0];
      const shape = image.shape || [image.length, image[0].length];
      const flat = image.shape ? Array.from(image) : [].concat(...image.map(row => Array.from(row)));
      out.push([title, shape[0], shape[1], flat.map(v => Number.isNaN(v) ? null : v)]); } } return out; }"""


def _land_per_column() -> np.ndarray:
    """Land pixels per column of core.bench.maps.write_grid's ellipse."""
    y, x = np.mgrid[0:ROWS, 0:COLUMNS]
    return (((y - ROWS / 2) / (ROWS / 2)) ** 2 + ((x - COLUMNS / 2) / (COLUMNS / 2)) ** 2 < 1.0).sum(axis=0)


@pytest.fixture(scope="module")
def server_with_shifted_grid(tmp_path_factory):
    """The bench's synthetic grid with every covariate west of 0 degrees shifted by 10 sd of the data."""
    import xarray as xr

    from core.bench.maps import write_grid
    from core.datasets import load_data

    folder = tmp_path_factory.mktemp("aoa_grid")
    write_grid(folder / "base.zarr", (ROWS, COLUMNS), chunk=32)
    grid = xr.open_zarr(folder / "base.zarr").load()
    data = load_data("lucas-synthetic", n=None)
    west = grid["x"] < 0
    for name in data.predictors:
        if name in grid:
            grid[name] = grid[name].where(~west, grid[name] + 10 * float(data.frame[name].std()))
    grid.to_zarr(folder / "grid.zarr", mode="w")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--grid",
                                str(folder / "grid.zarr")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, process, 90)
    yield url
    stop_server(process)


def test_parameter_maps_grey_out_pixels_outside_the_area_of_applicability(server_with_shifted_grid, browser):
    from PIL import Image

    page = open_page(browser, server_with_shifted_grid)
    set_number(page, ".n-sites", 600)
    set_number(page, ".epochs", 6)
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".status", has_text="finished").wait_for(timeout=120_000)
    page.get_by_text("Parameters", exact=True).click()
    note = page.locator(".view-message", has_text="outside the run's area of applicability")
    note.wait_for(timeout=120_000)
    page.set_viewport_size({"width": 1700, "height": 6000})
    wait_until(lambda: len(page.evaluate(GREY_IMAGES)) >= 4 + 5, 120)
    time.sleep(3)  # the images draw on canvases
    SHOTS.mkdir(exist_ok=True)
    shot = page.screenshot(path=str(SHOTS / "grid_map_aoa.png"))
    share, outside, mapped = re.search(r"([\d.]+)% of the mapped grid lies outside .*?\((\d+) of (\d+) pixels",
                                       note.inner_text()).groups()
    land = _land_per_column()
    assert int(mapped) == land.sum() and int(outside) >= land[:WEST].sum()  # every western pixel at least
    assert float(share) == pytest.approx(100 * int(outside) / int(mapped), abs=0.05)
    images = page.evaluate(GREY_IMAGES)
    assert len(images) == 4 + 5, [title for title, *_ in images]  # every target and neural parameter
    for title, ny, nx, flat in images:
        grey = np.array([np.nan if v is None else v for v in flat], dtype=float).reshape(ny, nx)
        assert (ny, nx) == (ROWS, COLUMNS), title
        np.testing.assert_array_equal(np.isfinite(grey[:, :WEST]).sum(axis=0), land[:WEST])  # all of the west
        assert np.isfinite(grey[:, WEST:]).sum() < land[WEST:].sum()  # and not everything east of it
    below = note.bounding_box()
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"))[int(below["y"] + below["height"]):]
    # drawn: the western land (705 grid pixels, about 5,000 screen pixels) grey in each of the nine maps
    assert (pixels == GREY).all(axis=2).sum() > 9 * 3000
    page.close()
