"""``hybridlab bench --dashboard-sessions``: bad input is one line; a small run against a real
``hybridlab serve`` in headless Chromium writes every figure (their values depend on the machine
and are not tested, only that each session opened, trained or queued, and stopped)."""
import json

import pytest

from core.cli import main


def test_bad_session_counts_are_one_line(capsys):
    assert main(["bench", "--dashboard-sessions", "twelve", "--out", "unused.json"]) == 2
    assert "--dashboard-sessions expects numbers like 12,30, got 'twelve'" in capsys.readouterr().err
    assert main(["bench", "--dashboard-sessions", "0", "--out", "unused.json"]) == 2
    assert "at least 1" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.browser
def test_two_sessions_against_a_real_server(tmp_path, monkeypatch):
    from browser_support import require_chromium

    require_chromium()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "load.json"
    assert main(["bench", "--dashboard-sessions", "2", "--bench-workers", "1", "--follow-seconds", "4",
                 "--arrival-seconds", "0.5", "--out", str(out)]) == 0
    run = json.loads(out.read_text())["runs"][0]
    assert run["sessions"] == 2 and run["page_ready_s"]["n"] == 2
    assert run["trained_at_once"] == 1  # one worker: the other training waited in the queue
    assert run["queued_pages_showing_position"] == 1
    assert run["stop_s"]["unconfirmed"] == 0 and sum(run["stop_s"]["by_status"].values()) == 2
    assert "alone" in run["seconds_per_epoch"] and run["memory_mb"]["server_peak"] > 0
    assert run["page_errors"] == 0, run["first_page_errors"]
    assert set(run["goals"]) == {"page_ready_p95_s", "epoch_time_ratio", "view_lag_p95_s", "stop_max_s",
                                 "server_peak_mb", "page_errors"}
    assert not list(tmp_path.glob("bench-serve-*.log"))  # the server's log goes once it ended well
