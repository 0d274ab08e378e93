"""One dashboard per browser session (or notebook cell): the widgets and layout, wired to the
session's state objects (Setup, TrainingSession, RunTable). Buttons call methods of those objects;
a periodic callback brings the training thread's results into the page.

It lives in the package, not in the served script, so that callbacks run after a session ends
(clean-up) still find this module's names.
"""
from __future__ import annotations

import datetime
import html
import os

import panel as pn

from core.report import use_bokeh
from app.limits import GRID_ENV
from app.training.pool import server_pool
from app.ui.fit_warning import fit_warning_pane
from app.ui.live import LivePlots
from app.state.role_search import RoleSearchSession
from app.ui.role_search_tab import role_search_tab
from app.state.baselines import BaselineFits
from app.state.runs import RunTable
from app.state.session import TrainingSession
from app.state.setup import Setup
from app.ui.sidebar import sidebar
from app.ui.tabs import VIEW_TABS, compare_tab, export_tab, training_tab
from app.ui.view_tabs import ViewTab
from app.ui.views import ViewState

#: Panel extensions the page needs (loaded by the served script and by app.dashboard)
EXTENSIONS = ("tabulator", "filedropper")

REFRESH_MS = 250
#: statuses in which Train waits
BUSY = ("queued", "training", "stopping", "stopped")


def queue_text(position) -> str:
    """``(place, length, seconds)`` as "position 3 of 5 · starts in about 1 min"."""
    place, length, seconds = position
    text = f"position <span class='queue-place'>{place}</span> of {length}"
    if seconds is not None:
        text += f" · starts in about {max(1, round(seconds / 60))} min" if seconds > 90 else \
            f" · starts in about {max(5, round(seconds, -1)):.0f} s"
    return text


def epoch_markup(epoch: int, produced: float | None) -> str:
    """The epoch number, as the time its epoch finished where that is known (ISO 8601 with
    milliseconds in ``datetime``, the local time in the tooltip)."""
    if produced is None:
        return f"<span class='epoch'>{epoch}</span>"
    stamp = datetime.datetime.fromtimestamp(produced, datetime.timezone.utc).isoformat(timespec="milliseconds")
    local = datetime.datetime.fromtimestamp(produced).strftime("%H:%M:%S")
    return f"<time class='epoch' datetime='{stamp}' title='epoch finished at {local}'>{epoch}</time>"


def status_text(session: TrainingSession, status, epoch, best, best_epoch, left, message, position=None,
                produced=None, data_label="") -> str:
    """The status line. ``produced``: when the training finished the epoch shown (``time.time()``):
    the epoch number is marked up as that time (``<time datetime=...>``, "finished at" on hover).
    ``data_label``: the data the training uses, e.g. 'mysoil.csv (412 sites)'."""
    parts = [f"<span class='status'>{status}</span>"]
    if data_label and status != "idle":
        parts.append(f"data <span class='data-label'>{html.escape(data_label)}</span>")
    if status == "queued" and position is not None:
        parts.append(queue_text(position))
    if epoch and status == "finished" and epoch < session.max_epochs:
        parts.append(f"stopped early at epoch <span class='epoch'>{epoch}</span> of {session.max_epochs}")
    elif epoch:
        parts.append(f"epoch {epoch_markup(epoch, produced)} / {session.max_epochs}")
    if best is not None:
        parts.append(f"best validation loss {best:.3f} (epoch {best_epoch})")
    if left and status == "training":
        parts.append(f"at most {left / 60:.1f} min left" if left > 90 else f"at most {left:.0f} s left")
    if message:
        parts.append(f"<span class='message'>{html.escape(message)}</span>")
    return " · ".join(parts)


class Dashboard:
    """Widgets and layout for one browser session, wired to the state objects."""

    TABS = ("Training", *VIEW_TABS, "Role search", "Compare runs", "Export")

    def __init__(self, owner: str | None = None):
        pool = server_pool()
        self.setup = Setup(limits=pool.limits)
        self.session = TrainingSession(pool=pool, **({"owner": owner} if owner else {}))
        self.search = RoleSearchSession(pool=pool, owner=self.session.owner)
        self.runs = RunTable(keep=pool.limits.runs_kept)
        self.baselines = BaselineFits(pool=pool, owner=self.session.owner)
        self.live = LivePlots(self.session)
        grid = os.environ.get(GRID_ENV, "")  # hybridlab serve --grid: maps of each finished run
        self.view_tabs = {tab: ViewTab(tab, self.setup, ViewState(self.session, self.setup, grid)) for tab in VIEW_TABS}
        self.tabs = None
        # an ensemble's verdicts go onto the parameter rows (a new training clears them)
        self.session.param.watch(lambda event: self.setup.show_identifiability((event.new or {}).get("identifiability")),
                                 "ensemble")

    # -- callbacks: thin, they call state methods ---------------------------------------------------
    def tick(self):
        if self.session.sync():  # the live plots follow the session's snapshot and history
            if self.session.status == "finished":
                self.runs.add(self.session.run, self.session.label, self.session.data_name)
        self.search.sync()
        self.baselines.sync()
        self.refresh_visible_tab()

    def refresh_visible_tab(self, paced: bool | None = None):
        """Redraw one of the visible view tab's stale views (paced while a training runs: the event
        loop stays free for clicks such as Stop)."""
        view_tab = self.tabs is not None and self.view_tabs.get(self.TABS[self.tabs.active])
        if view_tab:
            view_tab.refresh(paced=self.session.running if paced is None else paced)

    def close(self, *_):
        """The session ended: stop its training, remove its upload and let go of its runs."""
        self.session.stop()
        self.search.discard()
        self.setup.upload.discard()
        self.runs.clear()
        self.baselines.discard()

    def controls(self):
        setup, session = self.setup, self.session
        train = pn.widgets.Button(name="Train", button_type="primary", width=120,
                                  disabled=pn.bind(lambda errors, status, search: bool(errors) or status in BUSY
                                                   or search in ("running", "stopping"),
                                                   setup.param.errors, session.param.status, self.search.param.status))
        stop = pn.widgets.Button(name="Stop", button_type="warning", width=120,
                                 disabled=pn.bind(lambda status: status not in ("queued", "training"), session.param.status))
        train.on_click(lambda event: session.start(setup))
        stop.on_click(lambda event: session.stop())
        blockers = pn.pane.HTML(pn.bind(
            lambda errors: "" if not errors else "<div class='blocked' style='color:#c00'><b>Training is blocked:</b><br>"
            + "<br>".join(map(html.escape, errors)) + "</div>", setup.param.errors))
        # a run that stopped early is complete: the bar goes to the end
        progress = pn.indicators.Progress(value=pn.bind(lambda e, m, status: m if status == "finished" else e,
                                                        session.param.epoch, session.param.max_epochs,
                                                        session.param.status),
                                          max=pn.bind(lambda m: max(m, 1), session.param.max_epochs), width=300)
        p = session.param
        status = pn.pane.HTML(pn.bind(lambda *values: status_text(session, *values), p.status, p.epoch,
                                      p.best_val_loss, p.best_epoch, p.seconds_left, p.message, p.queue_position,
                                      p.produced_at, p.data_label))
        return pn.Column(pn.Row(train, stop, progress), status, fit_warning_pane(session), blockers)

    def _tabs(self):
        self.role_search = pn.Column(sizing_mode="stretch_width")  # its widgets are made when first opened
        self.tabs = pn.Tabs(("Training", training_tab(self.session, self.live)),
                            *((tab, self.view_tabs[tab].layout) for tab in VIEW_TABS),
                            ("Role search", self.role_search),
                            ("Compare runs", compare_tab(self.runs, self.baselines)), ("Export", export_tab(self.session, self.setup)),
                            dynamic=True, sizing_mode="stretch_width")
        self.tabs.param.watch(self._tab_opened, "active")
        return self.tabs

    def _tab_opened(self, event) -> None:
        if self.TABS[event.new] == "Role search" and not self.role_search.objects:
            self.role_search.objects = [role_search_tab(self.search, self.setup, self.session.param.status)]
        self.refresh_visible_tab(paced=False)

    def layout(self):
        intro = pn.pane.Markdown("# hybridlab: hybrid modelling dashboard\nA network predicts the *neural* parameters "
                                 "of a process model; *global* ones are learned once; *fixed* ones stay put.",
                                 sizing_mode="stretch_width")
        main = pn.Column(intro, self.controls(), self._tabs(), sizing_mode="stretch_width", min_width=560,
                         css_classes=["main-area"])
        return pn.Row(sidebar(self.setup), main, sizing_mode="stretch_width")


def create() -> pn.viewable.Viewable:
    """A dashboard for the current session, with its periodic refresh and clean-up."""
    use_bokeh(replace=True)  # the page draws with Bokeh, whatever a notebook chose before
    dash = Dashboard(owner=f"user-{pn.state.user}" if pn.state.user else None)
    page = dash.layout()
    # also in a notebook, where there is no server document: the kernel's event loop runs it
    pn.state.add_periodic_callback(dash.tick, period=REFRESH_MS)
    if pn.state.curdoc is not None:
        pn.state.on_session_destroyed(dash.close)
    return page

