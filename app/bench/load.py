"""``hybridlab bench --dashboard-sessions 12,30 --out load.json``: a workshop on one server.

For each number of sessions N it starts ``hybridlab serve`` (trainings on its Dask workers), and:

1. alone: one session trains and is followed, for the epoch time of a training with the server to
   itself;
2. load: N participants open the page in headless Chromium, one every ``--arrival-seconds``, each
   pressing Train once the page is ready (the first ones train, the rest wait in the pool's
   queue); all are followed, then each presses Stop in turn, half a second apart.

It reports page-ready times, Train to the first KGE, epoch time under load against alone, how far
the page is behind the training, Stop to "stopped"/"cancelled", the peak memory of the server and of
its workers, and page errors, each against the goals of issue #15. The browser runs on the same
machine and takes CPU from the server: on a 2-core machine the figures are those of a server whose
participants' browsers cost it nothing more than this one.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import core

from app.bench.browser_sessions import BrowserSession
from app.bench.server_memory import MemoryWatcher, stop_tree

GOALS = {"page_ready_p95_s": 3.0, "epoch_time_ratio": 1.3, "view_lag_p95_s": 2.0, "stop_max_s": 1.0,
         "server_peak_mb": 1024.0, "page_errors": 0}
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _spread(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    return {"median": statistics.median(values) if values else None, "p95": _percentile(values, 0.95),
            "max": max(values) if values else None, "n": len(values)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, log_path) -> subprocess.Popen:
    command = [sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", str(workers)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/app"
    end = time.time() + 120
    import urllib.request

    while time.time() < end:
        if process.poll() is not None:
            raise core.HybridlabError(f"hybridlab serve ended at start; see {log_path}")
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200:
                return process
        except OSError:
            time.sleep(0.5)
    stop_tree(process.pid)
    raise core.HybridlabError(f"the dashboard did not answer at {url} within 120 s; see {log_path}")


async def _alone(browser, url: str, follow_s: float) -> BrowserSession:
    session = await BrowserSession.open(browser, url)
    await session.train()
    await _until_one_trains([session])
    await asyncio.sleep(2)
    await session.follow(follow_s)
    await session.stop()
    await session.page.close()
    return session


async def _load(browser, url: str, n: int, follow_s: float, arrival_s: float,
                stagger_s: float = 0.5) -> list[BrowserSession]:
    """N participants arriving ``arrival_s`` apart, each pressing Train when the page is ready."""
    async def arrive(index: int) -> BrowserSession:
        await asyncio.sleep(index * arrival_s)
        session = await BrowserSession.open(browser, url)
        if session.ready:
            await session.train()
        return session

    sessions = await asyncio.gather(*(arrive(i) for i in range(n)))
    ready = [s for s in sessions if s.ready]
    await _until_one_trains(ready)  # a slow or loaded machine takes longer to start the first
    await asyncio.sleep(2)  # then the others that have a worker start too
    await asyncio.gather(*(s.follow(follow_s) for s in ready))

    async def stop_later(index: int, session: BrowserSession):
        await asyncio.sleep(index * stagger_s)
        await session.stop()

    await asyncio.gather(*(stop_later(i, s) for i, s in enumerate(ready)))
    await asyncio.gather(*(s.page.close() for s in sessions))
    return sessions


async def _until_one_trains(sessions: list[BrowserSession], timeout_s: float = 60.0) -> None:
    """Wait until some page shows its training running (at most ``timeout_s``), so that which
    sessions train at once does not depend on how fast the machine starts the first."""
    end = time.perf_counter() + timeout_s
    while sessions and time.perf_counter() < end:
        statuses = [(await session.read()).status for session in sessions]
        if "training" in statuses:
            return
        await asyncio.sleep(0.25)


def _summary(n: int, alone: BrowserSession, sessions: list[BrowserSession], memory: dict, workers: int) -> dict:
    running = [s for s in sessions if s.started_at_once]
    under_load = [e for s in running if (e := s.seconds_per_epoch()) is not None]
    alone_epoch = alone.seconds_per_epoch()
    stops = [s.stop_seconds for s in sessions if s.ready]
    result = {
        "sessions": n, "workers": workers, "trained_at_once": len(running),
        "pages_not_ready": sum(not s.ready for s in sessions),
        "open_errors": sorted({s.open_error for s in sessions if s.open_error}),
        "page_ready_s": _spread([s.ready_seconds for s in sessions]), "page_ready_alone_s": alone.ready_seconds,
        "server_response_s": _spread([s.response_seconds for s in sessions]),
        "server_response_alone_s": alone.response_seconds,
        "page_ready_each_s": [None if s.ready_seconds is None else round(s.ready_seconds, 2) for s in sessions],
        "train_to_first_kge_s": _spread([s.first_kge_seconds for s in running]),
        "seconds_per_epoch": {"alone": alone_epoch, "under_load": _spread(under_load)},
        "epoch_time_ratio": statistics.median(under_load) / alone_epoch if under_load and alone_epoch else None,
        "view_lag_s": _spread([lag for s in running for lag in s.lags()]),
        "stop_s": {**_spread(stops), "unconfirmed": sum(v is None for v in stops),
                   "by_status": {k: sum(s.stop_status == k for s in sessions) for k in ("stopped", "cancelled", "finished")}},
        "queued_pages_showing_position": sum(s.saw_queue_position for s in sessions if s.ready and not s.started_at_once),
        "memory_mb": memory,
        "page_errors": sum(len(s.errors) for s in [alone, *sessions]),
        "first_page_errors": [e for s in [alone, *sessions] for e in s.errors][:5],
    }
    result["goals"] = _goals(result)
    return result


def _goals(result: dict) -> dict:
    measured = {"page_ready_p95_s": None if result["pages_not_ready"] else result["page_ready_s"]["p95"],
                "epoch_time_ratio": result["epoch_time_ratio"],
                "view_lag_p95_s": result["view_lag_s"]["p95"],
                "stop_max_s": None if result["stop_s"]["unconfirmed"] else result["stop_s"]["max"],
                "server_peak_mb": result["memory_mb"]["server_peak"], "page_errors": result["page_errors"]}
    return {name: {"goal": GOALS[name], "measured": value, "met": value is not None and value <= GOALS[name]}
            for name, value in measured.items()}


def renice_browser(niceness: int) -> None:
    """Chromium's processes (and the pages it starts later, which inherit it) at a low priority."""
    import psutil

    for process in psutil.Process().children(recursive=True):
        try:
            if "chrom" in process.name().lower():
                process.nice(niceness)
        except psutil.Error:
            pass


async def _measure(n: int, workers: int, follow_s: float, arrival_s: float, chromium: str, log,
                   browser_niceness: int = 0) -> dict:
    from playwright.async_api import async_playwright

    # the server's log goes into a folder of its own, never the current one (kept there if the server fails)
    port, log_path = _free_port(), os.path.join(tempfile.mkdtemp(prefix="hybridlab-bench-"), f"bench-serve-{n}.log")
    server = start_server(port, workers, log_path)
    watcher = MemoryWatcher(server.pid)
    url = f"http://127.0.0.1:{port}/app"
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=ARGS)
            if browser_niceness:
                renice_browser(browser_niceness)
            log(f"{n} sessions: one alone first")
            alone = await _alone(browser, url, follow_s)
            log(f"{n} sessions: one arriving every {arrival_s:g} s")
            sessions = await _load(browser, url, n, follow_s, arrival_s)
            await browser.close()
    finally:
        memory = watcher.stop()
        stop_tree(server.pid)
    shutil.rmtree(os.path.dirname(log_path), ignore_errors=True)
    return {**_summary(n, alone, sessions, memory, workers), "arrival_seconds": arrival_s,
            "browser_niceness": browser_niceness}


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise core.HybridlabError(f"--dashboard-sessions expects numbers like 12,30, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise core.HybridlabError(f"--dashboard-sessions expects numbers of at least 1, got {text!r}")
    return sizes


class DashboardSessions:
    """The ``--dashboard-sessions`` mode of ``hybridlab bench`` (entry-point group ``hybridlab.bench_modes``)."""

    @staticmethod
    def add_arguments(parser) -> None:
        parser.add_argument("--dashboard-sessions", default=None, metavar="N[,N...]",
                            help="instead: serve the dashboard and drive N sessions in headless Chromium "
                                 "(e.g. 12,30; needs playwright and chromium)")
        parser.add_argument("--bench-workers", type=int, default=None,
                            help="with --dashboard-sessions: the server's Dask workers (default: the cores)")
        parser.add_argument("--follow-seconds", type=float, default=20.0,
                            help="with --dashboard-sessions: how long the trainings are followed (default 20)")
        parser.add_argument("--arrival-seconds", type=float, default=1.0,
                            help="with --dashboard-sessions: seconds between two participants opening the page "
                                 "(default 1; 0 opens all at once)")
        parser.add_argument("--browser-niceness", type=int, default=0,
                            help="with --dashboard-sessions: Chromium's nice value (default 0: the browser takes "
                                 "CPU from the server like any process; 19: only what the trainings leave, which "
                                 "starves it while every core trains)")

    @staticmethod
    def requested(args) -> bool:
        return args.dashboard_sessions is not None

    @staticmethod
    def run(args, log=print) -> dict:
        from core.compute import default_workers

        sizes = _sizes(args.dashboard_sessions)
        chromium = os.environ.get("HYBRIDLAB_CHROMIUM") or shutil.which("chromium")
        if chromium is None:
            raise core.HybridlabError("--dashboard-sessions needs Chromium: install Debian's chromium or set "
                                      "HYBRIDLAB_CHROMIUM to its path")
        for package in ("playwright", "psutil"):
            if importlib.util.find_spec(package) is None:
                raise core.HybridlabError(f"--dashboard-sessions needs {package}: pip install -e '.[test]'")
        workers = default_workers() if args.bench_workers is None else args.bench_workers
        result = {"machine": {"cores": os.cpu_count()}, "goals": GOALS, "runs": []}
        for n in sizes:
            measured = asyncio.run(_measure(n, workers, args.follow_seconds, args.arrival_seconds, chromium, log,
                                            args.browser_niceness))
            log(_line(measured))
            result["runs"].append(measured)
            Path(args.out).write_text(json.dumps(result, indent=2))  # kept if a larger N fails
        return result


def _line(result: dict) -> str:
    unmet = [name for name, goal in result["goals"].items() if not goal["met"]]
    return (f"{result['sessions']} sessions: page ready p95 {result['page_ready_s']['p95'] or float('nan'):.1f} s "
            f"({result['pages_not_ready']} not ready), "
            f"epoch ratio {result['epoch_time_ratio'] or float('nan'):.2f}, lag p95 {result['view_lag_s']['p95'] or float('nan'):.2f} s, "
            f"stop max {result['stop_s']['max'] or float('nan'):.2f} s, server {result['memory_mb']['server_peak']:.0f} MiB, "
            f"errors {result['page_errors']}; goals not met: {', '.join(unmet) or 'none'}")


BENCHMARK = DashboardSessions()
