"""What loading the data changed, said before training: rows left out of training, columns not
taken as predictors (``HybridData.notes``, see :mod:`core.datasets.incomplete`)."""
from __future__ import annotations

import sys

from core.run.execute import RunObserver


def print_notes(notes: list[str], bar=None) -> None:
    """Each note on its own line on stderr (through a tqdm bar's ``write`` while one is shown)."""
    for note in notes:
        if bar is not None:
            bar.write(note, file=sys.stderr)
        else:
            print(note, file=sys.stderr, flush=True)


def print_file_notes(plan: dict) -> None:
    """The notes of a plan's data file, read once here before its runs start on the workers (a
    file that cannot be used is then refused before any run). Built-in data have none."""
    from core.run.execute import load_plan_data
    from core.run.plan import RunPlan

    plan = RunPlan.from_dict(plan)
    if plan.data.path is not None:
        print_notes(load_plan_data(plan).notes)


class NotesFirst(RunObserver):
    """A run observer that prints the data's notes as the run starts (through ``inner``'s bar, if
    it shows one) and hands every call on to ``inner``."""

    def __init__(self, inner):
        self.inner = inner

    def on_start(self, context) -> None:
        print_notes(context.data.notes, getattr(self.inner, "bar", None))
        self.inner.on_start(context)

    def on_epoch(self, row: dict, context) -> None:
        self.inner.on_epoch(row, context)

    def on_finish(self, run, context) -> None:
        self.inner.on_finish(run, context)
