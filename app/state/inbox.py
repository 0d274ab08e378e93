"""What the pool's threads hand to a page: an :class:`Inbox` they post into under a lock, and
:class:`PoolUser`, the base of every state object that sends work to the server's pool.

Worker threads never touch a page's parameters. They ``post`` into the inbox; the page's periodic
callback, in the session's own thread, ``take``\\ s everything at once and moves it into the
parameters that the views show.
"""
from __future__ import annotations

import threading

import param

from app.training.pool import TrainingPool, server_pool


class Inbox:
    """Items posted by other threads, taken all at once.

    lists: keys whose items accumulate in order under another key (``{"row": "rows"}``: each
    posted ``row`` is appended to ``rows``); every other key keeps its latest value. Posts carrying
    a ``token`` other than the current one (see :meth:`reset`) are dropped: news of an earlier job.
    """

    def __init__(self, lists: dict[str, str] | None = None):
        self.lists = dict(lists or {})
        self._lock = threading.Lock()
        self._items: dict = {}
        self._token: object | None = None

    def reset(self) -> object:
        """Empty the inbox and start a new generation; returns its token."""
        with self._lock:
            self._items, self._token = {}, object()
            return self._token

    def post(self, token: object | None = None, **items) -> None:
        """Add items (from any thread); dropped when ``token`` is given and is not the current one."""
        with self._lock:
            if token is not None and token is not self._token:
                return
            for key, into in self.lists.items():
                if key in items:
                    self._items.setdefault(into, []).append(items.pop(key))
            self._items.update(items)

    def take(self) -> dict:
        """Everything posted since the last take (empty dict when nothing was)."""
        with self._lock:
            items, self._items = self._items, {}
        return items


class PoolUser(param.Parameterized):
    """A page's state object that sends work to the pool: the pool, whose share it takes, and the
    inbox that the pool's threads post into (read by the page's ``sync``)."""

    pool = param.ClassSelector(class_=TrainingPool, doc="the server's training pool (one per process)")
    owner = param.String(default="", doc="whose share of the pool a training takes: the signed-in user, else this session")

    #: the inbox's list keys (see :class:`Inbox`)
    inbox_lists: dict[str, str] = {}

    def __init__(self, **params):
        params.setdefault("owner", f"session-{id(self)}")
        if params.get("pool") is None:
            params["pool"] = server_pool()
        super().__init__(**params)
        self.inbox = Inbox(self.inbox_lists)
