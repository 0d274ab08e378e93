"""Uploads in a real headless Chromium: a Parquet file (of the type a browser reports when it knows
none) and a CSV are trained by pressing Train, with no other click, on their own rows; a column map
file fills the mapping form; a file whose target column holds text is an error in the page's error
style and Train is disabled with the reason beside it."""
import io
import json
import os
import re
import subprocess
import sys

import pytest

import core
from browser_support import ROOT, SHOTS, free_port, open_page, require_chromium, set_number, wait_for_url, stop_server

require_chromium()
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser

EPOCHS = 4
ERROR_RED = "rgb(204, 0, 0)"  # color:#c00, the page's error style


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``hybridlab serve`` training in threads of the server; its output in a log file (a pipe
    nobody reads would fill and stall it)."""
    folder = tmp_path_factory.mktemp("upload-server")
    port, log_path = free_port(), folder / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "0"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "HYBRIDLAB_TORCH_THREADS": "1"})
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, proc, log_path=log_path)
    yield url
    stop_server(proc)


def _fluxes(sites: int, seed: int):
    """Respiration data of ``sites`` sites (40 days each), columns named like the model's variables."""
    return core.load_data("respiration-synthetic", n=sites, seed=seed).frame


def _payload(name: str, frame, mime: str) -> dict:
    buffer = io.BytesIO()
    if name.endswith((".parquet", ".pq")):
        frame.to_parquet(buffer, index=False)
    else:
        buffer.write(frame.to_csv(index=False).encode())
    return {"name": name, "mimeType": mime, "buffer": buffer.getvalue()}


def _respiration_page(browser, url):
    page = open_page(browser, url)
    page.locator(".model-select select").select_option("respiration")
    page.locator(".param-row-rb").wait_for(timeout=30_000)
    set_number(page, ".epochs", EPOCHS)
    page.get_by_text("Upload your own data").click()
    page.locator(".upload-limits").wait_for(timeout=10_000)
    return page


def _upload(page, payload, selector=".upload"):
    page.locator(f"{selector} input[type=file]").set_input_files(payload)


def _train_and_wait(page, data_label):
    train = page.get_by_role("button", name="Train", exact=True)
    playwright.expect(train).to_be_enabled(timeout=30_000)
    train.click()
    page.locator(".data-label", has_text=data_label).wait_for(timeout=30_000)
    page.locator(".status", has_text="finished").wait_for(timeout=120_000)


def test_parquet_and_csv_uploads_train_on_their_own_rows_without_a_load_click(server, browser, tmp_path):
    page = _respiration_page(browser, server)
    # from a file on disk, as the file chooser gives it (the field once refused it: "File is of
    # invalid type. Expects text/csv, application/octet-stream or .pq")
    path = tmp_path / "soil.parquet"
    path.write_bytes(_payload("soil.parquet", _fluxes(15, 5), "")["buffer"])
    _upload(page, str(path))
    page.locator(".upload-loaded", has_text="of 15 sites").wait_for(timeout=30_000)
    playwright.expect(page.locator(".data-select select")).to_have_value("uploaded: soil.parquet", timeout=10_000)
    assert page.locator(".upload-error").count() == 0
    page.screenshot(path=str(SHOTS / "upload_parquet.png"), full_page=True)
    _train_and_wait(page, "soil.parquet (15 sites)")
    assert "mean validation KGE" in page.locator(".message").inner_text()
    _upload(page, _payload("fluxes.csv", _fluxes(11, 6), "text/csv"))
    page.locator(".upload-loaded", has_text="of 11 sites").wait_for(timeout=30_000)
    playwright.expect(page.locator(".data-select select")).to_have_value("uploaded: fluxes.csv", timeout=10_000)
    _train_and_wait(page, "fluxes.csv (11 sites)")
    page.get_by_text("Compare runs", exact=True).click()
    table = page.locator(".tabulator")
    table.get_by_text("fluxes.csv (11 sites)").wait_for(timeout=30_000)
    assert table.get_by_text("soil.parquet (15 sites)").count() == 1
    # the methods people use instead, on the first run's own split (its file has been replaced since)
    page.locator(".baseline-run select").select_option(index=0)
    page.get_by_role("button", name="Fit baselines", exact=True).click()
    page.locator(".baseline-status", has_text="fitted qrf, rf on the split of #1").wait_for(timeout=120_000)
    table.get_by_text("rf on the split of #1", exact=False).first.wait_for(timeout=30_000)
    assert table.get_by_text("qrf (baseline)").count() == 1
    page.screenshot(path=str(SHOTS / "upload_compare.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("name,mime", [("soil.pq", ""), ("soil.pq", "application/vnd.apache.parquet"),
                                       ("soil.parquet", "application/vnd.apache.parquet"),
                                       ("soil.parquet", "application/x-parquet"), ("soil.csv", "application/vnd.ms-excel")])
def test_the_upload_field_takes_tables_by_extension_whatever_type_the_browser_reports(server, browser, name, mime):
    page = _respiration_page(browser, server)
    _upload(page, _payload(name, _fluxes(12, 1), mime))
    page.locator(".upload-message", has_text=f"{name}: 480 rows").wait_for(timeout=30_000)
    assert page.locator(".filepond--file-status-main", has_text="invalid type").count() == 0
    page.close()


def test_a_column_map_fills_the_form_and_a_text_target_blocks_train_in_the_error_style(server, browser, tmp_path):
    page = _respiration_page(browser, server)
    frame = _fluxes(12, 2).rename(columns={"reco": "R", "temp": "T"})
    frame["R"] = frame["R"].astype(object)
    frame.loc[7, "R"] = "n.d."
    _upload(page, _payload("field.csv", frame, "text/csv"))
    page.locator(".upload-message", has_text="field.csv: 480 rows").wait_for(timeout=30_000)
    # nothing named reco: the form maps no target, and Train says why
    page.locator(".blocked", has_text="field.csv").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()
    mapping = {"id": "site_id", "targets": {"reco": "R"}, "forcing": {"temp": "T"}, "predictors": ["moisture", "clay"]}
    path = tmp_path / "field.columns.json"
    path.write_text(json.dumps(mapping))
    page.locator(".upload-columns input[type=file]").set_input_files(str(path))
    page.locator(".upload-map", has_text="column map: field.columns.json").wait_for(timeout=30_000)
    playwright.expect(page.locator(".map-target-reco select")).to_have_value("R", timeout=10_000)
    playwright.expect(page.locator(".map-forcing-temp select")).to_have_value("T", timeout=10_000)
    error = page.locator(".upload-error")
    error.wait_for(timeout=30_000)
    text = error.inner_text()
    assert text.startswith("field.csv: ") and "'R'" in text and "row 9 holds 'n.d.'" in text
    assert error.evaluate("e => getComputedStyle(e).color") == ERROR_RED
    blocked = page.locator(".blocked")
    assert "row 9 holds 'n.d.'" in blocked.inner_text() and blocked.evaluate("e => getComputedStyle(e).color") == ERROR_RED
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()
    playwright.expect(page.locator(".data-select select")).to_have_value("uploaded: field.csv", timeout=10_000)
    page.screenshot(path=str(SHOTS / "upload_error.png"), full_page=True)
    # built-in data again: Train trains them, and says so
    page.locator(".data-select select").select_option("respiration-synthetic")
    set_number(page, ".n-sites", 20)
    _train_and_wait(page, "respiration-synthetic (20 sites)")
    assert re.search(r"respiration-synthetic \(20 sites\)", page.locator(".data-label").inner_text())
    page.close()
