"""``hybridlab roles search``: which parameters should be neural (greedy forward search).

    hybridlab roles search --model soc --seeds 3 --n-sites 1000 --epochs 100 --out runs/soc-roles
"""
from __future__ import annotations

import argparse
import sys

from core.cli.arguments import OneLineParser, add_plan_arguments, plan_from_args
from core.cli.arguments import add_executor_arguments


def add_command(sub) -> None:
    roles = sub.add_parser("roles", help="role tools: search for the parameters that should be neural")
    inner = roles.add_subparsers(dest="roles_command", required=True, parser_class=OneLineParser)
    p = inner.add_parser("search", help="greedy forward search from all global, N seeds per candidate, on the executor")
    add_plan_arguments(p)
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration, SEED..SEED+N-1 (default 3, at least 2)")
    p.add_argument("--candidates", default=None,
                   help="comma-separated parameters that may become neural (default: every parameter not fixed)")
    add_executor_arguments(p)
    p.add_argument("--out", required=True, help="search folder (step-K/ sweeps, role_search.json, .md, .png)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_roles_search)


def cmd_roles_search(a: argparse.Namespace) -> int:
    from core.formatting import number
    from core.roles import RoleSearch, run_role_search
    from core.roles.report import MARKDOWN_FILE, stop_reason
    from core.sweep import ExecutorOptions
    from core.cli.notes import print_file_notes
    from core.cli.progress import stop_on_signals

    plan = plan_from_args(a).to_dict()
    print_file_notes(plan)
    first = a.seed or 0
    candidates = [c.strip() for c in a.candidates.split(",") if c.strip()] if a.candidates else None
    search = RoleSearch(plan, list(range(first, first + a.seeds)), candidates)

    def show(step) -> None:
        if not a.quiet:
            made = step.parameter or "start (all global)"
            gain = "" if step.gain is None else f", gain {number(step.gain, 3)} ± {number(step.gain_sd, 3)}"
            print(f"step {step.step}: {made}: KGE {number(step.mean_val_kge, 3)} ± {number(step.sd_val_kge, 3)}{gain}"
                  f"{'' if step.accepted else ' (not kept)'}", flush=True)

    with stop_on_signals() as stop:
        path = run_role_search(search, a.out, ExecutorOptions(a.workers, a.threads_per_worker, a.scheduler),
                               on_step=show, stop_event=stop)
    print(f"neural: {', '.join(path[-1].neural) if path else 'none'}; stopped: {stop_reason(path, search.candidates)}; "
          f"path in {a.out}/{MARKDOWN_FILE}")
    if stop.is_set():
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    return 0
