"""Command line: ``hybridlab COMMAND`` (also ``python -m core``).

Every command registers the same way: a function ``add_command(sub)`` that adds its parser to
argparse's subparsers and sets ``func``. The built-in ones are the modules of
:mod:`core.cli.commands` (one file each: bench, data, experiment, identify, map, models, predict,
roles, sweep, train), found by listing the package; other installed packages add theirs under the
entry-point group ``hybridlab.commands`` (the dashboard adds ``serve``). Bad input ends with one line
naming what is wrong and exit code 2."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from importlib.metadata import entry_points

from core.errors import HybridlabError
from core.formatting import short_text
from core.cli import commands
from core.cli.arguments import EXIT_USAGE, OneLineParser

COMMAND_GROUP = "hybridlab.commands"


def command_adders() -> list:
    """``add_command`` of every command: the built-in modules by name, then the installed entry points."""
    built_in = [importlib.import_module(f"{commands.__name__}.{info.name}").add_command
                for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
                if not info.name.startswith("_")]
    return built_in + [entry.load() for entry in entry_points(group=COMMAND_GROUP)]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hybridlab", description="Hybrid modelling: neural networks learn the parameters of "
                                                   "process-based soil models.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for add_command in command_adders():
        add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _set_threads(args)
        return args.func(args)
    except HybridlabError as e:
        print(f"hybridlab {args.command}: error: {short_text(e)}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, MemoryError, RecursionError, UnicodeError) as e:  # a file, the machine's memory, the input's depth
        print(f"hybridlab {args.command}: error: {_what(e, args.command)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - a bug: one line, the traceback on request
        if os.environ.get("HYBRIDLAB_DEBUG"):
            raise
        print(f"hybridlab {args.command}: internal error: {type(e).__name__}: {short_text(e)} (set HYBRIDLAB_DEBUG=1 "
              f"for the traceback, and please report it)", file=sys.stderr)
        return 1


#: what to try when a command runs out of memory; the default suits the commands that train
LESS_MEMORY = {"map": "a smaller --chunk or fewer --workers", "data": "smaller files (--max-bytes)",
               "predict": "fewer rows per call"}


def _set_threads(a: argparse.Namespace) -> None:
    """A command that trains in this process (one with --threads) sets torch's threads by the one
    rule (:mod:`core.compute.threads`) before it starts; --verbose says how many and why."""
    if not hasattr(a, "threads"):
        return
    from core.compute import threads

    threads.check_passive()
    choice = threads.choose(1, a.threads, device=getattr(a, "device", None))
    got = threads.apply(choice)
    if getattr(a, "verbose", False):
        print(f"threads: {got['intra_op']} intra-op, {got['inter_op']} inter-op; OpenMP wait policy "
              f"{threads.wait_policy()}; {choice.reason}", file=sys.stderr, flush=True)


def _what(error: BaseException, command: str = "") -> str:
    """One line for an error of the machine or the input that no check caught first."""
    if isinstance(error, MemoryError):
        hint = LESS_MEMORY.get(command, "fewer sites, rows or a smaller network")
        return f"not enough memory for this request (try {hint})"
    if isinstance(error, RecursionError):
        return "the input is nested too deeply"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if getattr(error, "filename", None) else ""
        return f"{where}{error.strerror or short_text(error)}"
    return f"{type(error).__name__}: {short_text(error)}"
