"""``hybridlab serve``: the dashboard in the browser (``panel serve app/app.py``). Registered with
the ``hybridlab`` command through the entry-point group ``hybridlab.commands``."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def cmd_serve(a: argparse.Namespace) -> int:
    script = Path(__file__).resolve().parent / "app.py"
    origin = a.allow_websocket_origin or os.environ.get("HYBRIDLAB_WEBSOCKET_ORIGIN") or f"localhost:{a.port},127.0.0.1:{a.port}"
    cmd = [sys.executable, "-m", "panel", "serve", str(script), "--port", str(a.port), "--address", a.address,
           "--index", "app"]
    cmd += [f"--allow-websocket-origin={o.strip()}" for o in origin.split(",")]
    if a.show:
        cmd.append("--show")
    print(f"dashboard at http://{a.address if a.address != '0.0.0.0' else 'localhost'}:{a.port}/app", flush=True)
    return subprocess.call(cmd)


def add_command(subparsers) -> None:
    p = subparsers.add_parser("serve", help="start the dashboard in the browser (panel serve app/app.py)")
    p.add_argument("--port", type=int, default=5006)
    p.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    p.add_argument("--allow-websocket-origin", default=None,
                   help="host[:port] allowed to connect (default $HYBRIDLAB_WEBSOCKET_ORIGIN or localhost:PORT)")
    p.add_argument("--show", action="store_true", help="open a browser")
    p.set_defaults(func=cmd_serve)
