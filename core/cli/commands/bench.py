"""``hybridlab bench``: training speed against plain PyTorch and the matmul peak, contention, and the
modes other packages add (entry-point group ``hybridlab.bench_modes``)."""
from __future__ import annotations

import argparse
import json
from importlib.metadata import entry_points
from pathlib import Path

from core.cli.files import check_file_place
from core.errors import HybridlabError


def _add_contention_arguments(p) -> None:
    """``bench --contention``: the trainings alone and beside busy processes (core.bench.contention)."""
    p.add_argument("--contention", action="store_true",
                   help="only the contention case: trainings alone and beside busy processes, each as `hybridlab train`")
    p.add_argument("--repeats", type=int, default=3, help="runs of each contention measurement (default 3)")
    p.add_argument("--busy", default="0,1,2", help="busy processes beside the trainings, comma-separated (default 0,1,2)")
    p.add_argument("--variants", default="rule-active,cores-active",
                   help="thread rule and OpenMP wait policy of each training: rule|cores - passive|active, "
                        "comma-separated (default rule-active,cores-active: this rule against torch's defaults)")


def add_command(sub) -> None:
    p = sub.add_parser("bench", help="measure training speed against plain PyTorch and the matmul peak")
    p.add_argument("--out", required=True, help="JSON file to write")
    p.add_argument("--quick", action="store_true", help="a few epochs, no full experiment (under a minute)")
    _add_contention_arguments(p)
    # other packages add benchmarks of their own that a flag selects (the dashboard: --dashboard-sessions)
    for entry in entry_points(group=BENCH_MODE_GROUP):
        entry.load().add_arguments(p)
    p.set_defaults(func=cmd_bench)


#: benchmarks run instead of the standard one when their flag is given: objects with
#: ``add_arguments(parser)``, ``requested(args) -> bool`` and ``run(args, log) -> dict``
BENCH_MODE_GROUP = "hybridlab.bench_modes"


def cmd_bench(a: argparse.Namespace) -> int:
    from core.bench import run

    out = check_bench_out(a.out)  # before minutes of measuring, not after
    result = None
    if getattr(a, "contention", False):
        from core.bench.contention import run_contention

        result = run_contention(a, log=print)
    for entry in entry_points(group=BENCH_MODE_GROUP) if result is None else ():
        mode = entry.load()
        if mode.requested(a):
            result = mode.run(a, log=print)
            break
    if result is None:
        result = run(None, quick=a.quick)
    from core.io.outputs import write_text

    text = json.dumps(result, indent=2)
    print(text)  # on the screen first: a file that cannot be written then loses nothing
    write_text(out, text)
    return 0


#: an earlier benchmark's JSON is a few kB; a larger file is not read to find out
BENCH_RESULT_MAX_BYTES = 1 << 20


def check_bench_out(path: str) -> Path:
    """The benchmark's JSON file: a new file in an existing folder, or an earlier benchmark's
    result (a JSON object whose ``machine`` names the cores), which is replaced."""
    out = Path(path)
    check_file_place(out, "a file name such as bench.json")
    if out.exists() and not _is_bench_result(out):
        raise HybridlabError(f"{out}: exists and is not a benchmark result; choose another --out")
    return out


def _is_bench_result(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size > BENCH_RESULT_MAX_BYTES:
        return False
    try:
        earlier = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(earlier, dict) and isinstance(earlier.get("machine"), dict) and "cores" in earlier["machine"]
