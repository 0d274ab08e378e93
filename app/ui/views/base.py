"""The view base class, its registry, the state views draw from, and shared drawing helpers."""
from __future__ import annotations

from dataclasses import dataclass, field


REGISTRY: list[type["View"]] = []


@dataclass
class Shown:
    """What a session shows, held still: the source of a :class:`ViewState` without a session
    (a view drawn in a test or a notebook). Its fields are those of
    :class:`app.state.session.TrainingSession` that views read."""

    snapshot: object = None
    history: list = field(default_factory=list)
    data: object = None
    run: object = None
    derived: object = None
    spec: object = None
    ensemble: object = None


def _read_through(name: str, doc: str) -> property:
    return property(lambda state: getattr(state.session, name), doc=doc)


class ViewState:
    """What views draw from, read through from the training session (never copied): its latest
    ``snapshot``, ``history``, ``data``, finished ``run``, ``derived`` results, ``spec`` and
    ``ensemble`` (app.state.session.ensemble_result), the set-up's parameter ``rows`` and the
    server's covariate ``grid``. A tab redraws its views only while visible, so hidden tabs cost
    nothing during training.

    Parameters
    ----------
    session : TrainingSession, optional
        Where the fields come from; without one, from ``Shown(**shown)``.
    setup : Setup, optional
        Whose ``rows`` are read (without one: ``rows``).
    grid : str
        A covariate grid the server maps finished runs over (``hybridlab serve --grid``); empty: none.
    rows : list, optional
        Parameter rows when there is no ``setup``.
    """

    def __init__(self, session=None, setup=None, grid: str = "", rows: list | None = None, **shown):
        self.session = session if session is not None else Shown(**shown)
        self.setup, self.grid, self._rows = setup, grid, list(rows or [])

    snapshot = _read_through("snapshot", "latest core.Snapshot")
    history = _read_through("history", "history rows so far")
    data = _read_through("data", "core.HybridData trained on")
    run = _read_through("run", "the finished core.Run")
    derived = _read_through("derived", "app.training.analysis.DerivedResults of the finished run")
    spec = _read_through("spec", "core.ModelSpec of the run")
    ensemble = _read_through("ensemble", "the finished ensemble (app.state.session.ensemble_result)")

    @property
    def rows(self) -> list:
        """The set-up's parameter rows (roles, bounds, units)."""
        return list(self.setup.rows) if self.setup is not None else self._rows


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
