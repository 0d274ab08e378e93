"""Running a sweep into its folder:

    OUT/sweep.yaml      the sweep plan
    OUT/runs/<name>/    one ordinary run folder per run (packed seeds: one ensemble run folder,
                        ``<configuration>__seeds<first>-<last>``, for several rows)
    OUT/sweep.parquet   one row per run (rewritten as rows arrive, so an interrupted sweep keeps its rows)
    OUT/summary.*       mean ± sd per configuration and target
    ...                 whatever the caller's ``after`` hooks write (the CLI's and the role
                        search's: identifiability with 2 or more seeds, :mod:`core.identify`)

Resume: a run whose folder is complete and holds the same plan is not trained again; its row
comes from the previous ``sweep.parquet`` or, failing that, from its ``metrics.json``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from core.io.documents import read_document
from core.errors import HybridlabError
from core.compute.executor import Executor, check_processes
from core.run.store import is_run_folder
from core.sweep.plan import SWEEP_FILE, SweepPack, SweepPlan, SweepTask, pack_tasks
from core.sweep.results import read_table, write_summary, write_table
from core.sweep.task import FINISHED, member_rows, metrics_row, run_tasks

RUNS = "runs"


@dataclass
class ExecutorOptions:
    """workers: LocalCluster size (None: the cores); torch_threads per run (None: core.compute.threads' rule);
    scheduler: address of an existing Dask scheduler (None: ``HYBRIDLAB_SCHEDULER`` or an embedded cluster)."""

    workers: int | None = None
    torch_threads: int | None = None
    scheduler: str | None = None

    def __post_init__(self):
        check_processes(self.workers, self.torch_threads)  # before a sweep folder is written

    def executor(self) -> Executor:
        """An open executor for sweep tasks (its workers import the engine before the first)."""
        return Executor(workers=self.workers, torch_threads=self.torch_threads, scheduler=self.scheduler,
                        warm=("torch", "core.sweep.task"))


@dataclass
class SweepOutcome:
    table: pd.DataFrame
    summary: dict
    skipped: int
    interrupted: bool = False
    rows: list[dict] = field(default_factory=list)


def check_sweep_out(out: Path) -> None:
    """Refuse a folder that holds files a sweep did not write. (Another sweep's folder is fine:
    only runs with the same plan are reused, so a sweep can grow by seeds or configurations.)"""
    if out.exists() and not out.is_dir():
        raise HybridlabError(f"{out}: exists and is not a folder; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / SWEEP_FILE).is_file():
        raise HybridlabError(f"{out}: the folder holds files that are not a hybridlab sweep; choose another --out")


def _previous_rows(pack: SweepPack, folder: Path, previous: dict) -> list[dict] | None:
    """The rows of a finished run (or ensemble) from an earlier invocation, or None if it must run."""
    if not is_run_folder(folder):
        return None
    try:
        stored = read_document(folder / "plan.yaml")
        metrics = read_document(folder / "metrics.json")
    except HybridlabError:
        return None
    if stored != pack.plan:
        return None
    rows = [previous.get(task.name) for task in pack.tasks]
    if all(row is not None and row.get("status") == FINISHED for row in rows):
        return rows
    if len(pack.tasks) > 1:
        return member_rows(_packed_task(pack, folder), metrics)
    task = pack.tasks[0]
    return [{"name": task.name, **task.axes, "status": FINISHED, "error": "", "worker": "", "out": str(folder),
             "duration_s": None, **metrics_row(metrics)}]


def _packed_task(pack: SweepPack, folder: Path, analysis: dict | None = None) -> dict:
    """The task dict of a pack (see :mod:`core.sweep.task`)."""
    first = pack.tasks[0]
    task = {"name": pack.name, "axes": first.axes, "plan": pack.plan, "out": str(folder.resolve()),
            "analysis": analysis}
    if len(pack.tasks) > 1:
        task["members"] = [{"name": t.name, "axes": t.axes} for t in pack.tasks]
    return task


#: what runs after a sweep's table and summary are written: ``hook(sweep, out, title)``
AfterSweep = Callable[[SweepPlan, Path, str], None]


def run_sweep(sweep: SweepPlan, out: str | Path, options: ExecutorOptions | None = None, *,
              on_row: Callable[[dict], None] | None = None, on_plan: Callable[[int, int], None] | None = None,
              stop_event: threading.Event | None = None, analysis: Callable[[SweepTask], dict] | None = None,
              after: Sequence[AfterSweep] = (), title: str = "Sweep", executor: Executor | None = None) -> SweepOutcome:
    """Run every task of ``sweep`` not finished before, write the table and summary; returns them.

    Parameters
    ----------
    sweep : SweepPlan
        The runs.
    out : str or Path
        The sweep folder (new, empty, or an earlier sweep's: finished runs with the same plan are kept).
    options : ExecutorOptions, optional
        The executor to open when ``executor`` is not given.
    on_row, on_plan : callable, optional
        ``on_row(row)`` as each run ends; ``on_plan(to_run, skipped)`` once before anything runs.
    stop_event : threading.Event, optional
        Set: what has not finished is cancelled; the outcome says ``interrupted``.
    analysis : callable, optional
        ``analysis(task)`` -> the task's ``analysis`` entry (see :mod:`core.sweep.task`); with
        one, every seed is a run of its own (an analysis looks at one model).
    after : sequence of callable
        ``hook(sweep, out, title)`` after the table and summary are written (e.g.
        :func:`core.identify.after_sweep`).
    title : str
        The summary's title.
    executor : Executor, optional
        One that is open already (anything with its ``map``); it stays open.

    Returns
    -------
    SweepOutcome
        The table (one row per run), the summary, how many runs were kept from before.
    """
    out = Path(out)
    check_sweep_out(out)
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    (out / SWEEP_FILE).write_text(sweep.to_yaml())
    table = read_table(out)
    previous = {} if table is None else {r["name"]: r for r in table.to_dict("records")}
    rows, todo = [], []
    tasks = sweep.tasks()
    order = [task.name for task in tasks]
    packs = pack_tasks(tasks) if sweep.pack_seeds and analysis is None else [SweepPack(t.name, t.plan, [t]) for t in tasks]
    for pack in packs:
        folder = out / RUNS / pack.name
        found = _previous_rows(pack, folder, previous)
        if found is not None:
            rows.extend(found)
            continue
        todo.append(_packed_task(pack, folder, analysis(pack.tasks[0]) if analysis else None))
    skipped = len(rows)
    if on_plan is not None:
        on_plan(sum(len(task.get("members") or [task]) for task in todo), skipped)
    last_write = [0.0]

    def arrived(row: dict) -> None:
        rows.append(row)
        if time.monotonic() - last_write[0] > 1.0:
            write_table(rows, out, order)
            last_write[0] = time.monotonic()
        if on_row is not None:
            on_row(row)

    if todo and executor is not None:
        run_tasks(executor, todo, on_row=arrived, stop_event=stop_event)
    elif todo:
        with (options or ExecutorOptions()).executor() as own:
            run_tasks(own, todo, on_row=arrived, stop_event=stop_event)
    interrupted = bool(stop_event is not None and stop_event.is_set())
    table = write_table(rows, out, order)
    summary = write_summary(table, out, title)
    for hook in after:
        hook(sweep, out, title)
    return SweepOutcome(table, summary, skipped, interrupted, rows)
