"""``hybridlab serve`` as a process: stopping it stops the web server (no server left behind)."""
import subprocess
import sys
import time

import psutil
import pytest
from browser_support import free_port, wait_for_url

pytestmark = pytest.mark.slow


def test_terminating_hybridlab_serve_leaves_no_server_running():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_url(f"http://127.0.0.1:{port}/app", process, 90)
    process.terminate()
    process.wait(30)
    end = time.time() + 10
    while time.time() < end:
        left = [p for p in psutil.process_iter(["cmdline"])
                if "serve" in (p.info["cmdline"] or []) and str(port) in (p.info["cmdline"] or [])]
        if not left:
            return
        time.sleep(0.2)
    for leftover in left:
        leftover.kill()
    raise AssertionError(f"a server on port {port} was left running: {[p.info['cmdline'] for p in left]}")
