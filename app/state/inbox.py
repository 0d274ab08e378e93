"""What the pool's threads hand to a page: an :class:`Inbox` of typed news
(:mod:`app.training.news`) they post into under a lock, :func:`dispatch`, which hands each piece
to its handler by type, and :class:`PoolUser`, the base of every state object that sends work to
the server's pool.

Worker threads never touch a page's parameters. They ``post`` into the inbox; the page's periodic
callback, in the session's own thread, ``take``\\ s everything at once and moves it into the
parameters that the views show.
"""
from __future__ import annotations

import threading

import param

from app.training.news import News
from app.training.pool import TrainingPool, server_pool


class Inbox:
    """News (:mod:`app.training.news`) posted by other threads, taken all at once, in the order
    they came; a kind that is ``latest_only`` (a snapshot, a place in the queue) keeps only its
    newest. Posts carrying a ``token`` other than the current one (see :meth:`reset`) are
    dropped: news of an earlier job."""

    def __init__(self):
        self._lock = threading.Lock()
        self._news: list[News] = []
        self._token: object | None = None

    def reset(self) -> object:
        """Empty the inbox and start a new generation; returns its token."""
        with self._lock:
            self._news, self._token = [], object()
            return self._token

    def post(self, news: News, token: object | None = None) -> None:
        """Add one piece of news (from any thread); dropped when ``token`` is given and is not the current one."""
        if not isinstance(news, News):
            raise TypeError(f"an inbox takes news (app.training.news), got {type(news).__name__}")
        with self._lock:
            if token is not None and token is not self._token:
                return
            if news.latest_only:
                self._news = [n for n in self._news if type(n) is not type(news)]
            self._news.append(news)

    def take(self) -> list[News]:
        """Everything posted since the last take, oldest first (empty when nothing was)."""
        with self._lock:
            news, self._news = self._news, []
        return news


def dispatch(handlers: dict, news: list[News], *args) -> None:
    """``handlers[type(n)](n, *args)`` for each piece of news in order; a kind without a handler
    is a TypeError (a sender's mistake, never news silently lost)."""
    for item in news:
        handler = handlers.get(type(item))
        if handler is None:
            raise TypeError(f"no handler for news {type(item).__name__}; handled: "
                            f"{', '.join(kind.__name__ for kind in handlers)}")
        handler(item, *args)


class PoolUser(param.Parameterized):
    """A page's state object that sends work to the pool: the pool, whose share it takes, and the
    inbox that the pool's threads post into (read by the page's ``sync``)."""

    pool = param.ClassSelector(class_=TrainingPool, doc="the server's training pool (one per process)")
    owner = param.String(default="", doc="whose share of the pool a training takes: the signed-in user, else this session")

    def __init__(self, **params):
        params.setdefault("owner", f"session-{id(self)}")
        if params.get("pool") is None:
            params["pool"] = server_pool()
        super().__init__(**params)
        self.inbox = Inbox()
