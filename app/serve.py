"""``hybridlab serve``: the dashboard in the browser (``panel serve app/app.py``). Registered with
the ``hybridlab`` command through the entry-point group ``hybridlab.commands``.

The server's limits (:class:`app.limits.ServerLimits`) are flags here (``--max-epochs 2000``) and
reach the server process as ``HYBRIDLAB_MAX_*`` variables; arguments after ``--`` go to ``panel
serve`` as they are (``-- --basic-auth users.json``)."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import param

import core

from core.compute import threads
from core.compute import SCHEDULER_ENV, check_processes, default_workers

from app.limits import ENV_PREFIX, GRID_ENV, ServerLimits, websocket_bytes


def panel_command(a: argparse.Namespace) -> list[str]:
    script = Path(__file__).resolve().parent / "app.py"
    origin = a.allow_websocket_origin or os.environ.get("HYBRIDLAB_WEBSOCKET_ORIGIN") or f"localhost:{a.port},127.0.0.1:{a.port}"
    command = [sys.executable, "-m", "panel", "serve", str(script), "--port", str(a.port), "--address", a.address,
               "--index", "app", "--websocket-max-message-size", str(websocket_bytes()),
               "--check-unused-sessions", str(int(a.session_cleanup_seconds * 1000)),
               "--unused-session-lifetime", str(int(a.session_cleanup_seconds * 1000))]
    command += [f"--allow-websocket-origin={o.strip()}" for o in origin.split(",")]
    if a.show:
        command.append("--show")
    return command + [arg for arg in a.panel_args if arg != "--"]


def server_environment(a: argparse.Namespace) -> dict[str, str]:
    """This process's environment with the limits given as flags (flags win over variables)."""
    limits = ServerLimits.from_environment()
    for name in ServerLimits.names():
        value = getattr(a, f"max_{name}")
        if value is None:
            continue
        lowest = ServerLimits.param[name].bounds[0]
        if not value >= lowest:
            raise core.HybridlabError(f"--max-{name.replace('_', '-')} {value}: must be at least {lowest}")
        setattr(limits, name, value)
    pool = {"HYBRIDLAB_WORKERS": str(default_workers() if a.workers is None else a.workers)}
    if a.scheduler:
        pool[SCHEDULER_ENV] = a.scheduler
    if a.grid:
        from core.mapping import grid_kind

        grid_kind(Path(a.grid))  # one line for a missing file or an unknown type, before the server starts
        pool[GRID_ENV] = str(Path(a.grid).resolve())
    # the server and its workers: OpenMP's wait policy as this process set it before torch (core.compute.threads)
    return {**os.environ, **threads.child_environment(), **limits.environment(), **pool}


def cmd_serve(a: argparse.Namespace) -> int:
    check_processes(a.workers or None, 1)  # 0: threads of the server; too many would fail only at the first training
    threads.check_environment()  # HYBRIDLAB_THREADS, HYBRIDLAB_OMP_PASSIVE: one line now, not at the first training
    environment = server_environment(a)
    print(f"dashboard at http://{a.address if a.address != '0.0.0.0' else 'localhost'}:{a.port}/app", flush=True)
    command = panel_command(a)
    if os.name == "posix":  # become the server, so that a signal to `hybridlab serve` (Ctrl+C, kill) reaches it
        os.execve(command[0], command, environment)
    return subprocess.call(command, env=environment)


def add_command(subparsers) -> None:
    p = subparsers.add_parser("serve", help="start the dashboard in the browser (panel serve app/app.py)")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    p.add_argument("--allow-websocket-origin", default=None,
                   help="host[:port] allowed to connect (default $HYBRIDLAB_WEBSOCKET_ORIGIN or localhost:PORT)")
    p.add_argument("--show", action="store_true", help="open a browser")
    p.add_argument("--workers", type=int, default=None,
                   help="Dask worker processes that run the trainings, one at a time each (default: the cores); "
                        "0 trains in threads of the server")
    p.add_argument("--scheduler", default=None, help="train on the Dask cluster at this address instead")
    p.add_argument("--grid", default=None, metavar="GRID",
                   help="a covariate grid (.tif, .nc, .zarr, x/y table) to map each finished run over (offline: no "
                        "map tiles)")
    p.add_argument("--session-cleanup-seconds", type=float, default=15.0,
                   help="how soon a closed page's session ends and its files and runs are freed (default 15)")
    limits = ServerLimits()
    for name in ServerLimits.names():
        parameter = ServerLimits.param[name]
        p.add_argument(f"--max-{name.replace('_', '-')}", type=int if isinstance(parameter, param.Integer) else float, default=None, metavar="N",
                       help=f"{parameter.doc} (default {getattr(limits, name)}, or ${ENV_PREFIX}{name.upper()})")
    p.add_argument("panel_args", nargs="*", help="after --: arguments for panel serve, e.g. -- --basic-auth FILE")
    p.set_defaults(func=cmd_serve)
