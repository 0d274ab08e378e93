"""What a training tells its page: one frozen dataclass per kind of news, posted by the pool, its
runners and the live observer, taken by a page's state object (:mod:`app.state.inbox`), which
handles each kind by its type. A misspelled field is a ``TypeError`` where the news is made.

A job's life: :class:`Queued` (while it waits) -> :class:`Started` -> :class:`Loaded` -> one
:class:`Epoch` per epoch, with :class:`Snapshot` s between -> (:class:`Stopped` once it saw Stop)
-> an :class:`End`: :class:`Finished` (a training's run), :class:`Returned` (a call's result),
:class:`Cancelled` or :class:`Failed`. A role search's thread adds :class:`SearchStep` and
:class:`SearchRow`.

News from a Dask worker cross the scheduler as plain data (:func:`to_wire`, :func:`from_wire`):
msgpack carries the plain fields; a field that is not plain (a ``core.Snapshot``'s tables) goes
through the ``wrap`` the runner gives, Dask's own serialisation, so nothing falls back to pickle.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, ClassVar

import core


@dataclass(frozen=True)
class News:
    """Base of every kind. ``latest_only``: a newer one replaces an older one not yet taken."""

    latest_only: ClassVar[bool] = False


@dataclass(frozen=True)
class Queued(News):
    """The job waits: ``place`` of ``length`` in the queue, about ``seconds`` until it starts (None: unknown)."""

    place: int
    length: int
    seconds: float | None = None
    latest_only: ClassVar[bool] = True


@dataclass(frozen=True)
class Started(News):
    """The job has a slot; the training loads its data."""


@dataclass(frozen=True)
class Loaded(News):
    """The data are loaded and the epochs begin; ``data`` (core.HybridData): what the views draw,
    None when the sender left them to the runner (a Dask worker)."""

    data: object = None


@dataclass(frozen=True)
class Epoch(News):
    """One history row (an ensemble's: the members' median, :func:`core.run.finish.epoch_row`),
    with ``produced_at``: when the epoch ended (``time.time()`` of the training's machine)."""

    row: dict


@dataclass(frozen=True)
class Snapshot(News):
    """An evaluation of every site (core.Snapshot): paced during training, the kept weights at the end."""

    snapshot: object
    latest_only: ClassVar[bool] = True


@dataclass(frozen=True)
class Stopped(News):
    """The training saw Stop: it ends after its current batch and keeps its best weights."""


@dataclass(frozen=True)
class End(News):
    """The last news of a job (its kinds below)."""


@dataclass(frozen=True)
class Finished(End):
    """A training ended with its ``run`` (core.Run) and ``derived`` results (or None); a role
    search ended with ``message`` saying why."""

    run: object = None
    derived: object = None
    message: str = ""


@dataclass(frozen=True)
class Returned(End):
    """A call ended with its function's ``result``."""

    result: object = None


@dataclass(frozen=True)
class Cancelled(End):
    """The job was cancelled, or a role search stopped, before it could finish."""

    message: str = "cancelled before it started"


@dataclass(frozen=True)
class Failed(End):
    """The job failed; ``message``: one line, never a traceback."""

    message: str


@dataclass(frozen=True)
class SearchStep(News):
    """A role search decided a step (core.roles.RoleStep as a dict)."""

    step: dict


@dataclass(frozen=True)
class SearchRow(News):
    """A role search's run ended (its sweep-table row)."""

    row: dict


#: the kinds that may cross a Dask queue, by name
KINDS: dict[str, type[News]] = {kind.__name__: kind for kind in (Loaded, Epoch, Snapshot, Stopped)}


def plain(value) -> bool:
    """True for what msgpack carries as it is: None, bool, int, float, str, and lists, tuples
    and str-keyed dicts of them (numpy scalars are not)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (list, tuple):
        return all(plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and plain(v) for k, v in value.items())
    return False


def to_wire(news: News, wrap: Callable[[object], object]) -> dict:
    """``news`` as a dict msgpack carries: ``kind`` and its fields, each not :func:`plain` one
    as ``wrap(value)`` (on Dask: ``distributed.protocol.to_serialize``)."""
    if type(news).__name__ not in KINDS:
        raise core.HybridlabError(f"news {type(news).__name__} cannot cross a queue; kinds that can: "
                                  f"{', '.join(KINDS)}")
    values = {f.name: getattr(news, f.name) for f in fields(news)}
    return {"kind": type(news).__name__, **{k: v if plain(v) else wrap(v) for k, v in values.items()}}


def from_wire(item: dict) -> News:
    """The news :func:`to_wire` sent (lists where it sent tuples)."""
    values = dict(item)
    kind = KINDS.get(values.pop("kind", None))
    if kind is None:
        raise core.HybridlabError(f"unknown news {item.get('kind')!r} from a worker; known: {', '.join(KINDS)}")
    return kind(**values)


__all__ = ["Cancelled", "End", "Epoch", "Failed", "Finished", "KINDS", "Loaded", "News", "Queued", "Returned",
           "SearchRow", "SearchStep", "Snapshot", "Started", "Stopped", "from_wire", "plain", "to_wire"]
