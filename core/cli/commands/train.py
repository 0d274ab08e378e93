"""``hybridlab train``: one run from flags or a plan, written to a run folder."""
from __future__ import annotations

import argparse

from core.cli.arguments import add_plan_arguments


def add_command(sub) -> None:
    p = sub.add_parser("train", help="train one model and write a run directory")
    add_plan_arguments(p)
    p.add_argument("--out", default=None, help="run directory to write")
    p.add_argument("--dump-config", action="store_true", help="print the plan these flags stand for (YAML) and exit")
    p.add_argument("--overwrite", action="store_true", help="replace --out even if it holds files hybridlab did not write")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads (default: the cores this process may use, fewer where other processes keep "
                        "them busy; or $HYBRIDLAB_THREADS)")
    p.add_argument("--verbose", action="store_true", help="say how many threads it trains with, and why")
    p.set_defaults(func=cmd_train)


def cmd_train(a: argparse.Namespace) -> int:
    from core.run.execute import execute
    from core.report.tables import metrics_table
    from core.run.store import check_out, claim
    from core.cli.arguments import dump_or_require_out, plan_from_args
    from core.cli.notes import NotesFirst
    from core.cli.progress import ProgressBar, stop_on_signals

    plan = plan_from_args(a)
    if dump_or_require_out(plan, a.dump_config, a.out):
        return 0
    reading = [path for path in (getattr(a, "config", None), plan.data.path) if path]
    out = check_out(a.out, a.overwrite, reading=reading)
    progress = ProgressBar(plan.train.epochs, a.quiet)
    with claim(out):
        try:
            with stop_on_signals() as stop:
                run = execute(plan, observer=NotesFirst(progress), stop_event=stop)
        finally:
            progress.close()
        run.save(out, overwrite=a.overwrite)
    print(metrics_table(run.metrics))
    print(f"run written to {out}")
    return 0
