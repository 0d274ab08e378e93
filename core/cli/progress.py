"""Following runs in the terminal: a progress bar (or, in a log that is not a terminal, one line
now and then), and stopping on Ctrl-C or SIGTERM after the current batch."""
from __future__ import annotations

import contextlib
import signal
import sys
import threading

from core.run.execute import RunObserver


class ProgressBar(RunObserver):
    """tqdm bar over epochs with the losses; in a log that is not a terminal, a line per tenth."""

    def __init__(self, epochs: int, quiet: bool, desc: str | None = None):
        from tqdm import tqdm

        self.epochs, self.desc = epochs, desc
        self.terminal = sys.stderr.isatty()
        self.bar = None if quiet or not self.terminal else tqdm(
            total=epochs, unit="epoch", file=sys.stderr, dynamic_ncols=True, desc=desc, mininterval=0.2)
        self.quiet = quiet
        self.every = max(1, epochs // 10)

    def on_epoch(self, row: dict, context) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(ensemble_postfix(row) if "members" in row else
                                     f"train={row['train_loss']:.3f}, val={row['val_loss']:.3f}, "
                                     f"best={row['best_val_loss']:.3f}@{row['best_epoch']}")
        elif not self.quiet and row["epoch"] % self.every == 0:
            prefix = f"{self.desc}: " if self.desc else ""
            print(prefix + epoch_line(row, self.epochs), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def epoch_line(row: dict, epochs: int) -> str:
    """The log line of an epoch: a run's losses, or an ensemble's median losses over its members
    and how many still train (a row of :func:`core.run.finish.epoch_row`)."""
    if "members" in row:
        return f"epoch {row['epoch']}/{epochs} · {ensemble_postfix(row)}"
    return (f"epoch {row['epoch']}/{epochs} train {row['train_loss']:.3f} val {row['val_loss']:.3f} "
            f"best {row['best_val_loss']:.3f}@{row['best_epoch']}")


def ensemble_postfix(row: dict) -> str:
    """``loss median: val 0.450, train 0.412 (5 members, 3 training)``: the members' median
    validation and training loss, stopped members at their last epoch."""
    return (f"loss median: val {row['val_loss']:.3f}, train {row['train_loss']:.3f} "
            f"({row['members']} members, {row['members_training']} training)")


@contextlib.contextmanager
def stop_on_signals():
    """An event that SIGINT (Ctrl-C) and SIGTERM set instead of killing the process."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class SweepProgress:
    """One bar over a sweep's runs (done, failed, running, time left); in a log that is not a
    terminal, one line per finished run."""

    def __init__(self, quiet: bool):
        self.quiet, self.terminal = quiet, sys.stderr.isatty()
        self.bar, self.total, self.done, self.failed, self.workers = None, 0, 0, 0, 1

    def start(self, to_run: int, skipped: int) -> None:
        self.total = to_run
        if not self.quiet:
            print(f"{to_run} runs to train" + (f", {skipped} finished before" if skipped else ""),
                  file=sys.stderr, flush=True)
        if not self.quiet and self.terminal and to_run:
            from tqdm import tqdm

            self.bar = tqdm(total=to_run, unit="run", file=sys.stderr, dynamic_ncols=True, mininterval=0.5)

    def finished(self, row: dict) -> None:
        self.done += 1
        self.failed += row.get("status") != "finished"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed, left=self.total - self.done)
        elif not self.quiet:
            kge = row.get("mean_val_kge")
            result = f"mean validation KGE {kge:.3f}" if isinstance(kge, float) else row.get("error", "")
            print(f"[{self.done}/{self.total}] {row['name']}: {row.get('status')} · {result} · "
                  f"{row.get('duration_s') or 0:.1f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
