"""The Parameters and Model tabs: each registered view in a pane of its own, redrawn by the
dashboard's refresh one stale view at a time, as often as :class:`RedrawPacer` allows.

A HoloViews view is drawn anew each time (about 0.1–0.6 s of the server's event loop for the SOC
model's five neural parameters), and every session of a server shares that loop. Redrawing all
views of a tab on each snapshot blocked the loop for seconds, and a click on Stop waited behind it.
"""
from __future__ import annotations

import html
import re
import threading
import time

import panel as pn

import core

from app.ui.views import Message, ViewState, views_for

MAX_COLUMNS = 2
#: share of the server's event loop that view redraws of all sessions may take while training,
#: and the shortest wait between two redraws of one session's views (s)
REDRAW_BUDGET = 0.3
MIN_INTERVAL = 1.0


#: a view's note: wrapped to the pane's width, never one clipped line
MESSAGE_STYLE = {"white-space": "normal", "overflow-wrap": "anywhere", "color": "#444", "padding": "12px 16px",
                 "border": "1px solid #ddd", "border-radius": "4px", "background": "#fafafa", "max-width": "100%",
                 "box-sizing": "border-box"}


def message_pane(message: str):
    """A view's note as text that wraps (`code` in backticks shown as code)."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(message)))
    return pn.pane.HTML(f"<div class='view-message'>{text}</div>", styles=MESSAGE_STYLE, sizing_mode="stretch_width")


def plot_pane(element):
    """One HoloViews element in its pane; its axes are its own (linked axes joined the ranges of
    unrelated plots with the same dimension names, e.g. every map's x and y)."""
    return pn.pane.HoloViews(element, linked_axes=False)


def grid(items, columns: int = 4):
    """A view's output as panes: a list of HoloViews elements as a grid of separate panes (at most
    MAX_COLUMNS to a row, so that the plots fit beside the set-up panel at 1366 px), with the
    list's :class:`~app.ui.views.base.Message` notes above it; a single element as is, a message
    as wrapped text."""
    if isinstance(items, Message):
        return message_pane(items)
    if isinstance(items, list):
        notes = [message_pane(e) for e in items if isinstance(e, Message)]
        box = pn.GridBox(*(plot_pane(e) for e in items if not isinstance(e, Message)), ncols=min(columns, MAX_COLUMNS))
        return pn.Column(*notes, box, sizing_mode="stretch_width") if notes else box
    return plot_pane(items)


class RedrawPacer:
    """When the next view redraw may start, process-wide: after a redraw that took ``cost`` seconds,
    the next one (of any session) waits ``cost * (1 - budget) / budget``, so that redraws take at
    most ``budget`` of the event loop whatever the number of sessions."""

    def __init__(self, budget: float = REDRAW_BUDGET):
        if not 0 < budget <= 1:
            raise core.HybridlabError(f"redraw budget must be in (0, 1], got {budget}")
        self.budget = budget
        self.next_at = 0.0
        self._lock = threading.Lock()

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def record(self, start: float, end: float) -> None:
        with self._lock:
            self.next_at = max(self.next_at, end + (end - start) * (1 - self.budget) / self.budget)


#: one pacer for every session of this process (they share its event loop)
PACER = RedrawPacer()


class ViewPane:
    """One view in its pane; ``stale`` when what it draws from changed since it was drawn."""

    def __init__(self, view, state: ViewState):
        self.view, self.state = view, state
        self.pane = pn.Column(sizing_mode="stretch_width")
        self.drawn = None
        self.redraw()

    def _inputs(self) -> tuple:
        """What the view draws from: the state's objects themselves (held, so that a later object
        cannot take a freed one's id) and the rows' roles and bounds, which change in place."""
        return tuple(tuple((r.pname, r.role, r.lower, r.upper) for r in self.state.rows) if name == "rows"
                     else getattr(self.state, name) for name in self.view.depends)

    @property
    def stale(self) -> bool:
        if self.drawn is None:
            return True
        return any(now is not then and not (isinstance(now, tuple) and now == then)
                   for now, then in zip(self._inputs(), self.drawn))

    def redraw(self) -> None:
        self.drawn = self._inputs()
        self.pane.objects = [grid(self.view.draw(self.state), self.view.columns)]


class ViewTab:
    """The registered views of one tab that the chosen model offers; rebuilt when the model changes."""

    def __init__(self, tab: str, setup, state: ViewState):
        self.tab, self.state = tab, state
        self.panes: list[ViewPane] = []
        self.last_redraw = -float("inf")
        self.layout = pn.panel(pn.bind(self._build, setup.param.model_name), sizing_mode="stretch_width")

    def _build(self, model_name: str):
        views = views_for(self.tab, core.get_model(model_name))
        self.panes = [ViewPane(view, self.state) for view in views]
        if not views:
            return pn.pane.Markdown(f"No {self.tab.lower()} views for model `{model_name}`.")
        parts = []
        for view_pane in self.panes:
            parts += [f"### {view_pane.view.title}", view_pane.pane]
        return pn.Column(*parts, sizing_mode="stretch_width")

    def refresh(self, paced: bool, pacer: RedrawPacer = PACER) -> bool:
        """Redraw the first stale view; while ``paced`` (a training runs) only when the pacer and
        MIN_INTERVAL allow. True when a view was redrawn."""
        stale = [view_pane for view_pane in self.panes if view_pane.stale]
        now = time.perf_counter()
        if not stale or (paced and (not pacer.due(now) or now - self.last_redraw < MIN_INTERVAL)):
            return False
        stale[0].redraw()
        end = time.perf_counter()
        self.last_redraw = end
        pacer.record(now, end)
        return True
