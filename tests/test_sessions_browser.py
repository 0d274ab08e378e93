"""Many sessions opened and closed on one served dashboard (``hybridlab serve``, trainings on its
Dask workers): each uploads a file, three train with two slots so one waits in the queue; after
they close, the server's uploaded files are gone and its memory stops growing. Also: the upload limit is stated in the page and an oversized file never leaves the browser."""
import os
import re
import subprocess
import sys
import time

import psutil
import pytest

from browser_support import ROOT, SHOTS, free_port, open_page, require_chromium, set_number, stop_server
from browser_support import wait_for_url, wait_until

require_chromium()
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: three cycles: the first loads libraries and data, the next two must not add up; four sessions,
#: three of which train on two slots (one waits until the first is stopped) and one only uploads
CYCLES, SESSIONS = 3, 4
#: more than any training reaches before it is stopped: the third starts when the first is stopped,
#: however fast or slow the machine is
EPOCHS = 5000


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    temp = tmp_path_factory.mktemp("server-tmp")
    port = free_port()
    env = {**os.environ, "TMPDIR": str(temp), "HYBRIDLAB_TORCH_THREADS": "1"}
    log = open(temp.parent / "server.log", "wb")  # a pipe nobody reads would fill and stall the server
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--session-cleanup-seconds", "1",
                             "--max-upload-mb", "0.2", "--max-trainings", "2", "--max-epochs", str(EPOCHS)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}/app"
    wait_for_url(url, proc, log_path=temp.parent / "server.log")
    server = psutil.Process(proc.pid)  # `hybridlab serve` becomes the Panel server (exec); its Dask workers are children
    assert "panel" in " ".join(server.cmdline()), server.cmdline()
    yield url, temp, server
    stop_server(proc)
    log.close()
    print((temp.parent / "server.log").read_text()[-3000:])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from core import load_data

    folder = tmp_path_factory.mktemp("files")
    load_data("respiration-synthetic", n=20, seed=1).frame.to_csv(folder / "fluxes.csv", index=False)
    (folder / "big.csv").write_text("a,b\n" + "1,2\n" * 100_000)  # 400 kB, over the 0.2 MB limit
    return folder


def _uploads(temp):
    return list(temp.glob("hybridlab-upload-*"))


def _open_and_upload(browser, url, files):
    """A page whose upload of fluxes.csv has started (the upload goes on while the next page opens)."""
    page = open_page(browser, url)
    page.get_by_text("Upload your own data").click()
    page.locator(".upload input[type=file]").set_input_files(str(files / "fluxes.csv"))
    return page


def _ready(page, train: bool):
    """Wait for the page's upload; set it to train respiration for up to EPOCHS epochs when ``train``."""
    page.locator(".upload-message", has_text="map the columns below").wait_for(timeout=30_000)
    if train:
        page.locator(".model-select select").select_option("respiration")
        page.get_by_text("target reco").wait_for(timeout=10_000)  # the mapping form follows the model
        set_number(page, ".n-sites", 30)
        set_number(page, ".epochs", EPOCHS)
        set_number(page, ".patience", EPOCHS)
    return page


def _stop(page):
    """Stop the page's training and wait until it has finished (with its best weights)."""
    page.get_by_role("button", name="Stop", exact=True).click()
    page.locator(".status", has_text="finished").wait_for(timeout=90_000)


def test_closed_sessions_give_back_their_files_and_memory(served, browser, files):
    url, temp, server = served
    memory = []
    for cycle in range(CYCLES):
        pages = [_open_and_upload(browser, url, files) for _ in range(SESSIONS)]
        pages = [_ready(page, train=i < 3) for i, page in enumerate(pages)]
        assert len(_uploads(temp)) == SESSIONS
        for page in pages[:3]:  # three press Train at once; the server runs two
            page.get_by_role("button", name="Train", exact=True).click()
        # the third waits for one of the two slots, and knows its place
        pages[2].locator(".status", has_text="queued").wait_for(timeout=10_000)
        pages[2].locator(".queue-place", has_text="1").wait_for(timeout=10_000)  # "position 1 of 1"
        # the first stops: its slot goes to the waiting third, however slow the machine is
        for page in pages[:2]:
            page.locator(".status", has_text="training").wait_for(timeout=90_000)
        _stop(pages[0])  # its slot goes to the waiting third
        pages[2].locator(".status", has_text="training").wait_for(timeout=90_000)
        for page in pages[1:3]:
            _stop(page)
        if cycle == 0:
            pages[2].screenshot(path=str(SHOTS / "sessions.png"))
        for page in pages:
            page.close()
        wait_until(lambda: not _uploads(temp), 60)
        time.sleep(3)  # sessions end one second after their page closes
        memory.append(server.memory_info().rss / 2**20)
    print("server memory after each cycle (MiB):", [round(m) for m in memory])
    assert not _uploads(temp)
    # the first cycle loads libraries and data; after it, closed sessions must not add up
    assert memory[-1] - memory[1] < 60, memory


def test_the_upload_limit_is_stated_and_an_oversized_file_stays_in_the_browser(served, browser, files):
    url, temp, _ = served
    page = open_page(browser, url)
    page.get_by_text("Upload your own data").click()
    assert "at most 0.2 MB" in page.locator(".upload-limits").inner_text()
    page.locator(".upload input[type=file]").set_input_files(str(files / "big.csv"))
    page.locator(".filepond--file-status-main", has_text="File is too large").wait_for(timeout=10_000)
    time.sleep(1)
    assert not _uploads(temp) and page.locator(".upload-message").count() == 0
    page.screenshot(path=str(SHOTS / "upload-too-large.png"))
    page.close()
