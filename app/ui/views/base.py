"""The view base class, its registry, the state views draw from, and shared drawing helpers."""
from __future__ import annotations

import param


REGISTRY: list[type["View"]] = []


class ViewState(param.Parameterized):
    """What views draw from: refreshed from the training session only while the tab is visible,
    so hidden tabs cost nothing during training."""

    snapshot = param.Parameter(default=None, doc="latest core.Snapshot")
    history = param.List(default=[], doc="history rows so far")
    data = param.Parameter(default=None, doc="core.HybridData trained on")
    run = param.Parameter(default=None, doc="the finished core.Run")
    derived = param.Parameter(default=None, doc="app.training.analysis.DerivedResults of the finished run")
    spec = param.Parameter(default=None, doc="core.ModelSpec of the run")
    rows = param.List(default=[], doc="the set-up's parameter rows (roles, bounds, units)")
    ensemble = param.Parameter(default=None, doc="the finished ensemble (app.state.session.ensemble_result)")
    grid = param.String(default="", doc="a covariate grid the server maps finished runs over (hybridlab serve "
                                        "--grid); empty: none")

    def refresh(self, session, rows) -> None:
        changed = {k: getattr(session, k) for k in ("snapshot", "data", "run", "derived", "spec", "ensemble")
                   if getattr(self, k) is not getattr(session, k)}
        if len(self.history) != len(session.history):
            changed["history"] = list(session.history)
        if changed:
            self.param.update(rows=list(rows), **changed)


class View:
    """One view. ``tab``: where it shows; ``offer``: the model offer it needs (None: any model);
    ``depends``: the ViewState fields it draws from; ``title``: its heading; ``columns``: how many
    plots side by side when :meth:`render` returns several."""

    tab: str = "Parameters"
    offer: str | None = None
    depends: tuple[str, ...] = ("snapshot",)
    title: str = ""
    columns: int = 4
    order: int = 50  # position within the tab, lower first

    def __init__(self, spec):
        self.spec = spec

    @classmethod
    def applies(cls, spec) -> bool:
        return cls.offer is None or (spec is not None and cls.offer in spec.views())

    def draw(self, state: ViewState):
        """:meth:`render`, or a note while the state holds another model's run."""
        if state.spec is not None and state.spec.name != self.spec.name:
            return empty(f"these views fill when model {self.spec.name!r} trains")
        return self.render(state)

    def render(self, state: ViewState):
        """A HoloViews element, a list of them, or a message (:func:`empty`)."""
        raise NotImplementedError


def register(cls: type[View]) -> type[View]:
    """Class decorator: make a view available to the dashboard."""
    if cls not in REGISTRY:
        REGISTRY.append(cls)
    return cls


class Message(str):
    """What a view shows in place of its plots: a note, drawn as text that wraps to the pane's
    width (:func:`app.ui.view_tabs.grid`). Not a plot: a placeholder that is a HoloViews element
    shares linked axes with the tab's other plots (a note at 0.5, 0.5 widened every map to 0)."""


def empty(message: str) -> Message:
    """A view's note instead of plots (while it waits for a run, or why it cannot draw)."""
    return Message(message)
