"""SIGINT and SIGTERM while a command writes an output: inside :func:`raise_on_signals` they
raise :class:`Interrupted` (exit 130 / 143), so that the partial output is removed on the way
out; :func:`check_signals` raises it again where an output is about to be renamed into place,
in case the first exception was swallowed on the way (inside a ``__del__`` or a library's
``except BaseException``)."""
from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived while writing (not an Exception: nothing swallows it on the way)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


#: signals that arrived inside :func:`raise_on_signals` (the handler's exception can be swallowed
#: when it fires inside a ``__del__`` or a library's ``except BaseException``; this list is not)
_FIRED: list[int] = []


def check_signals() -> None:
    """Raise :class:`Interrupted` again if a signal arrived inside :func:`raise_on_signals`
    (called before an output is renamed into place, so a swallowed signal never completes it)."""
    if _FIRED:
        raise Interrupted(_FIRED[0])


@contextlib.contextmanager
def raise_on_signals() -> Iterator[None]:
    """SIGINT / SIGTERM raise :class:`Interrupted` in the main thread while inside, and again on
    the way out (and before any output is swapped in) if that first exception was swallowed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        if not _FIRED:  # the first signal stops the work; a second one does not break the clean-up
            _FIRED.append(signum)
            raise Interrupted(signum)

    def unraisable(args):
        # raised where Python cannot pass it on (a __del__, a gc callback such as Dask's): it is
        # kept in _FIRED and raised again, so no traceback is printed for it
        if not isinstance(args.exc_value, Interrupted):
            previous_hook(args)

    _FIRED.clear()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
        check_signals()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        sys.unraisablehook = previous_hook
        _FIRED.clear()


__all__ = ["Interrupted", "check_signals", "raise_on_signals"]
