"""Shared by the browser tests: Debian's chromium, a free port, a served dashboard, a page."""
import os
import shutil
import socket
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "browser_shots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Skip the module without chromium, except in CI, where .ci/run installs it."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError("browser tests need Debian's chromium (apt-get install chromium); .ci/run installs it")
        pytest.skip("chromium is not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_url(url: str, process, seconds: float = 120, log_path=None) -> None:
    """Wait until ``url`` answers; the server's output (its stdout pipe, or ``log_path``) if it does not.
    Each request may take its time: the page is built for every GET, and on a busy machine that takes
    seconds. A request given up after 2 s had the server build page after page nobody took (a CI
    run's server did not answer within 60 s)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            if urllib.request.urlopen(url, timeout=max(1.0, min(30.0, end - time.time()))).status == 200:
                return
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.kill()
    output = Path(log_path).read_text() if log_path else process.stdout.read().decode()
    raise RuntimeError("the dashboard did not start: " + output[-2000:])


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1700, "height": 1400})
    page.goto(url)
    page.get_by_role("button", name="Train", exact=True).wait_for(timeout=90_000)
    return page


def wait_until(condition, seconds):
    end = time.time() + seconds
    while time.time() < end:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError("condition not met in time")


def set_number(page, css, value):
    box = page.locator(f"{css} input").first
    box.fill(str(value))
    box.press("Enter")


def stop_server(process, seconds: float = 60) -> None:
    """Stop a served dashboard: SIGTERM, and SIGKILL if it has not ended within ``seconds`` (on a
    loaded machine its Dask workers can take a while to close; test_serve checks the clean stop)."""
    import subprocess

    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
