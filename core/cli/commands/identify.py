"""``hybridlab identify``: identifiability of the configurations of existing sweeps.

    hybridlab identify runs/soc-sweep
    hybridlab identify runs/soc-sweep --twins 4          # verdicts from twin experiments
    hybridlab identify runs/respiration runs/swrc runs/soc --validation validation.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.errors import HybridlabError
from core.io.outputs import check_output, write_text


def add_command(sub) -> None:
    from core.cli.arguments import add_twin_arguments
    from core.cli.arguments import add_executor_arguments

    p = sub.add_parser("identify", help="which learned parameters an ensemble (a sweep with >= 2 seeds) agrees on")
    p.add_argument("folders", nargs="+", metavar="SWEEP_DIR",
                   help="sweep folder(s); identifiability.json and .md are written into each")
    p.add_argument("--validation", default=None, metavar="FILE",
                   help="write the pooled check (Spearman of agreement vs recovery r over all folders) as JSON")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier --validation file")
    add_twin_arguments(p)
    add_executor_arguments(p)
    p.set_defaults(func=cmd_identify)


def cmd_identify(a: argparse.Namespace) -> int:
    from core.io.json_files import json_safe
    from core.identify import write_identifiability
    from core.identify.report import markdown, validation
    from core.sweep import ExecutorOptions

    from core.cli.arguments import twin_design

    design = twin_design(a)
    validation_out = check_validation_out(a.validation, a.overwrite, a.folders) if a.validation else None
    options = ExecutorOptions(a.workers, a.threads_per_worker, a.scheduler)
    pooled = {}
    for folder in a.folders:
        result = write_identifiability(folder, twins=design, options=options)
        if result is None:
            raise HybridlabError(f"{folder}: no configuration has 2 finished members with learned parameters; "
                                 f"run the sweep with --seeds 2 or more")
        print(markdown(result, f"Identifiability: {folder}"))
        pooled.update({f"{folder}:{name}": entry for name, entry in result["configurations"].items()})
    if len(a.folders) > 1 or a.validation:
        check = validation(pooled)
        spearman = "–" if check["spearman"] is None else f"{check['spearman']:.2f}"
        per_model = ", ".join(f"{m} {v['spearman']:.2f} (n={v['n']})" if v["spearman"] is not None
                              else f"{m} – (n={v['n']})" for m, v in check["per_model"].items())
        print(f"All folders: Spearman of agreement vs recovery r {spearman} over {check['n']} parameters "
              f"and combinations with truth; per model: {per_model}")
        if check["twin_spearman"] is not None:
            print(f"Spearman vs recovery r of twin recovery {check['twin_spearman']:.2f}, of the verdict's score "
                  f"(the smaller of agreement and twin recovery) {check['score_spearman']:.2f}; called identified "
                  f"with recovery r below 0.5: {', '.join(check['false_identified']) or 'none'}")
        if validation_out is not None:
            write_text(validation_out, json.dumps(json_safe(check), indent=2))
    return 0


#: a pooled check is a few kB; a larger file is not read to find out whether it is one
VALIDATION_MAX_BYTES = 1 << 20


def _is_validation(path: Path) -> bool:
    """Whether ``path`` is a pooled check that ``identify --validation`` wrote."""
    if path.stat().st_size > VALIDATION_MAX_BYTES:
        return False
    try:
        earlier = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(earlier, dict) and {"spearman", "per_model", "n"} <= set(earlier)


def check_validation_out(path: str, overwrite: bool, folders: list[str]) -> Path:
    """--validation: a new JSON file outside the sweep folders read, or (with --overwrite) an
    earlier pooled check; never a run's file or anything else."""
    return check_output(path, overwrite=overwrite, inputs=folders, owned=_is_validation, flag="--validation")
