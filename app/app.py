"""hybridlab dashboard: ``panel serve app/app.py`` (or ``hybridlab serve``).

Each browser session gets its own Setup, TrainingSession and RunTable. Buttons call methods of
those state objects; a periodic callback brings the training thread's results into the page.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

# `panel serve app/app.py` puts app/ first on sys.path, where `app` would be this file; the
# repository root first makes `app` the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import holoviews as hv  # noqa: E402
import panel as pn  # noqa: E402
import param  # noqa: E402

from app import views  # noqa: E402
from app.live import KGEPartsFigure, LossFigure, ScatterFigure  # noqa: E402
from app.state import (PRESET_LABELS, UPLOAD_LIMIT_MB, RunTable, Setup,  # noqa: E402
                       TrainingSession, export_bytes)

hv.extension("bokeh")
pn.extension("tabulator", notifications=False)

REFRESH_MS = 250


class LivePlots:
    """The training tab's live plots (Bokeh figures updated in place, see app/live.py)."""

    def __init__(self):
        self.loss_pane = pn.pane.Bokeh(LossFigure([]).fig)
        self.container = pn.Column(pn.pane.Markdown("Observed vs predicted plots appear during training."))
        self.loss: LossFigure | None = None
        self.figures: list = []
        self.targets: list[str] | None = None
        self._history_len = -1
        self._snapshot = None
        self.refreshes = 0

    def _build(self, snap) -> None:
        targets = list(snap.targets)
        self.targets = targets
        self.loss = LossFigure(targets)
        self.loss_pane.object = self.loss.fig
        counts = {(t, s): int(snap.targets[t][s]["n"]) for t in targets for s in ("train", "val")}
        scat = {key: ScatterFigure(key[0], key[1], n) for key, n in counts.items()}
        bars = [KGEPartsFigure(t) for t in targets]
        self.figures = list(scat.values()) + bars
        self.container.objects = [
            pn.Row(*(pn.pane.Bokeh(scat[(t, "train")].fig) for t in targets), css_classes=["scatter-plots"]),
            pn.Row(*(pn.pane.Bokeh(scat[(t, "val")].fig) for t in targets)),
            pn.Row(*(pn.pane.Bokeh(b.fig) for b in bars))]
        self._history_len = -1

    def update(self, session) -> None:
        snap = session.snapshot
        if snap is not None and snap is not self._snapshot:
            if list(snap.targets) != self.targets:
                self._build(snap)
            self._snapshot = snap
            for f in self.figures:
                f.update(snap)
            self.refreshes += 1
        if self.loss is not None and len(session.history) != self._history_len:
            self._history_len = len(session.history)
            self.loss.update(session.history)


def grid(items, ncols: int = 4):
    """A list of HoloViews elements as a grid of separate panes (a single element or text as is)."""
    if isinstance(items, list):
        return pn.GridBox(*(pn.pane.HoloViews(e) for e in items), ncols=ncols)
    return pn.pane.HoloViews(items)


class TabView(param.Parameterized):
    """What a secondary tab shows: refreshed from the session only while that tab is visible, so
    hidden tabs cost nothing during training."""

    snapshot = param.Parameter(default=None)
    history = param.List(default=[])
    data = param.Parameter(default=None)

    def refresh(self, session) -> None:
        if (self.snapshot is not session.snapshot or len(self.history) != len(session.history)
                or self.data is not session.data):
            self.param.update(snapshot=session.snapshot, history=list(session.history), data=session.data)


class Dashboard:
    """Widgets and layout for one browser session, wired to the state objects."""

    TABS = ("Training", "Parameters", "Model", "Compare runs", "Export")

    def __init__(self):
        self.setup = Setup()
        self.session = TrainingSession()
        self.runs = RunTable()
        self.live = LivePlots()
        self.tab_views = {"Parameters": TabView(), "Model": TabView()}
        self.tabs = None
        self.map_param = pn.widgets.Select(name="parameter on the map", options=[])
        self.compare_pick = pn.widgets.MultiChoice(name="overlay runs", options=[])

    # -- callbacks: thin, they call state methods ---------------------------------------------------
    def tick(self):
        if not self.session.sync():
            return
        self.live.update(self.session)
        if self.tabs is not None:
            active = self.TABS[self.tabs.active]
            if active in self.tab_views:
                self.tab_views[active].refresh(self.session)
        if self.session.status == "finished" and self.session.run is not None:
            if not any(r["run"] is self.session.run for r in self.runs.records):
                self.runs.add(self.session)

    def close(self, *_):
        self.session.stop()

    # -- set-up panel -------------------------------------------------------------------------------
    def parameter_table(self):
        header = pn.Row(*(pn.pane.Markdown(f"**{h}**", width=w) for h, w in
                          (("parameter", 150), ("role", 190), ("lower", 80), ("upper", 80), ("fixed value", 80))),
                        margin=0)
        rows = [header]
        for r in self.setup.rows:
            role = pn.widgets.RadioButtonGroup.from_param(r.param.role, options=r.allowed_roles, width=190,
                                                          button_type="primary", button_style="outline", name="",
                                                          css_classes=["role"])
            lower = pn.widgets.FloatInput.from_param(r.param.lower, width=80, name="", css_classes=["lower"])
            upper = pn.widgets.FloatInput.from_param(r.param.upper, width=80, name="", css_classes=["upper"])
            value = pn.widgets.FloatInput.from_param(r.param.value, width=80, name="",
                                                     disabled=pn.bind(lambda role: role != "fixed", r.param.role))
            label = pn.pane.HTML(f"<b>{r.pname}</b><br><small>{r.description} [{r.unit}]</small>", width=150,
                                 css_classes=["param-name"])
            err = pn.pane.HTML(pn.bind(lambda e: f'<span class="row-error" style="color:#c00">{e}</span>' if e else "",
                                       r.param.error), margin=(0, 5))
            rows.append(pn.Column(pn.Row(label, role, lower, upper, value, margin=0), err, margin=(2, 0),
                                  css_classes=[f"param-row-{r.pname}"]))
        return pn.Column(*rows, scroll=True, height=560, width=680) if self.setup.rows else pn.pane.Markdown(
            "The pure neural network has no mechanistic parameters.")

    def presets(self):
        buttons = []
        for name in self.setup.presets:
            b = pn.widgets.Button(name=PRESET_LABELS.get(name, name), button_type="light", width=110)
            b.on_click(lambda e, n=name: self.setup.apply_preset(n))
            buttons.append(b)
        return pn.Row(*buttons)

    def upload_form(self):
        file_input = pn.widgets.FileInput(accept=".csv,.parquet,.pq", name="file")
        form = pn.Column()
        message = pn.pane.Markdown(pn.bind(lambda m: f"<span class='upload-message'>{m}</span>" if m else "",
                                           self.setup.param.upload_message))

        def on_file(event):
            frame = self.setup.read_upload(file_input.filename or "upload.csv", event.new)
            form.objects = [] if frame is None else self._mapping_widgets(frame)

        file_input.param.watch(on_file, "value")
        return pn.Card(pn.pane.Markdown(f"CSV or Parquet, at most {UPLOAD_LIMIT_MB} MB; the file is only read."),
                       file_input, message, form, title="Upload your own data", collapsed=True)

    def _mapping_widgets(self, frame):
        import core

        cols = list(frame.columns)
        none = "(none)"
        id_sel = pn.widgets.Select(name="id column (site or profile)", options=cols)
        spec = None if self.setup.model_name == core.NEURAL_NETWORK else core.get_model(self.setup.model_name)
        targets = list(spec.targets) if spec else []
        forcing = list(spec.forcing) + list(spec.optional_forcing) if spec else []
        t_sel = {t: pn.widgets.Select(name=f"target {t}", options=[none] + cols,
                                      value=t if t in cols else none) for t in targets}
        f_sel = {f: pn.widgets.Select(name=f"forcing {f}", options=[none] + cols,
                                      value=f if f in cols else none) for f in forcing}
        preds = pn.widgets.MultiChoice(name="predictors (empty: all other numeric columns)", options=cols)
        load = pn.widgets.Button(name="Load with this mapping", button_type="primary")

        def apply(_):
            mapping = {"id": id_sel.value,
                       "targets": {t: w.value for t, w in t_sel.items() if w.value != none},
                       "forcing": {f: w.value for f, w in f_sel.items() if w.value != none},
                       "predictors": preds.value or "*"}
            self.setup.apply_mapping(mapping)

        load.on_click(apply)
        return [id_sel, *t_sel.values(), *f_sel.values(), preds, load]

    def sidebar(self):
        s = self.setup
        data = pn.Column(pn.widgets.Select.from_param(s.param.data_name, name="data", css_classes=["data-select"]),
                         pn.widgets.IntInput.from_param(s.param.n_sites, name="sites (built-in data; empty = all)",
                                                        css_classes=["n-sites"]),
                         self.upload_form())
        model = pn.widgets.Select.from_param(s.param.model_name, name="model (nn = pure neural network)",
                                             css_classes=["model-select"])
        table = pn.Column(self.presets(), self.parameter_table(), width=690)

        def rebuild(_):  # a new model brings new rows and presets
            table.objects = [self.presets(), self.parameter_table()]
        s.param.watch(rebuild, "rows")
        settings = pn.Card(
            pn.Row(pn.widgets.Select.from_param(s.param.optimizer, width=150), pn.widgets.FloatInput.from_param(s.param.lr, name="learning rate", width=150)),
            pn.Row(pn.widgets.IntInput.from_param(s.param.batch_size, name="batch size", width=150),
                   pn.widgets.IntInput.from_param(s.param.epochs, name="max epochs", css_classes=["epochs"], width=150),
                   pn.widgets.IntInput.from_param(s.param.patience, css_classes=["patience"], width=150)),
            pn.Row(pn.widgets.TextInput.from_param(s.param.hidden, name="hidden layers", width=150),
                   pn.widgets.Select.from_param(s.param.activation, width=150),
                   pn.widgets.FloatInput.from_param(s.param.dropout, width=150)),
            pn.Row(pn.widgets.Select.from_param(s.param.loss, width=150), pn.widgets.Select.from_param(s.param.weighting, width=150),
                   pn.widgets.Select.from_param(s.param.split, width=150), pn.widgets.IntInput.from_param(s.param.seed, width=150)),
            title="Training settings", collapsed=False)
        return pn.Column("## Set-up", data, model, "### Parameters: role, bounds, fixed value", table, settings,
                         width=700)

    # -- training controls ----------------------------------------------------------------------------
    def controls(self):
        s, t = self.setup, self.session
        train = pn.widgets.Button(name="Train", button_type="primary", width=120,
                                  disabled=pn.bind(lambda errors, status: bool(errors) or status in ("training", "stopping"),
                                                   s.param.errors, t.param.status))
        stop = pn.widgets.Button(name="Stop", button_type="warning", width=120,
                                 disabled=pn.bind(lambda status: status != "training", t.param.status))
        train.on_click(lambda e: t.start(s))
        stop.on_click(lambda e: t.stop())
        blockers = pn.pane.HTML(pn.bind(
            lambda errors: "" if not errors else "<div class='blocked' style='color:#c00'><b>Training is blocked:</b><br>"
            + "<br>".join(errors) + "</div>", s.param.errors))
        progress = pn.indicators.Progress(value=pn.bind(lambda e: e, t.param.epoch),
                                          max=pn.bind(lambda m: max(m, 1), t.param.max_epochs), width=300)
        status = pn.pane.HTML(pn.bind(self._status_text, t.param.status, t.param.epoch, t.param.best_val_loss,
                                      t.param.best_epoch, t.param.seconds_left, t.param.message))
        return pn.Column(pn.Row(train, stop, progress), status, blockers)

    def _status_text(self, status, epoch, best, best_epoch, left, message):
        t = self.session
        parts = [f"<span class='status'>{status}</span>"]
        if epoch:
            parts.append(f"epoch <span class='epoch'>{epoch}</span> / {t.max_epochs}")
        if best is not None:
            parts.append(f"best validation loss {best:.3f} (epoch {best_epoch})")
        if left and status == "training":
            parts.append(f"at most {left / 60:.1f} min left" if left > 90 else f"at most {left:.0f} s left")
        if message:
            parts.append(f"<span class='message'>{message}</span>")
        return " · ".join(parts)

    # -- live views ------------------------------------------------------------------------------------
    def _targets(self):
        snap = self.session.snapshot
        return list(snap.targets) if snap is not None else []

    def training_tab(self):
        t = self.session
        kge_text = pn.pane.HTML(pn.bind(self._kge_text, t.param.snapshot))
        return pn.Column(self.live.loss_pane, kge_text, self.live.container)

    def _kge_text(self, snap):
        if snap is None:
            return ""
        cells = " · ".join(f"{k.upper()} {v['val']['kge']:.3f}" for k, v in snap.targets.items()
                           if v["val"]["kge"] is not None)
        return f"<div class='kge-values'>validation KGE at epoch {snap.epoch}: {cells}</div>"

    def parameters_tab(self):
        t, s = self.tab_views["Parameters"], self.setup

        def update_map_options(rows):
            names = [r.pname for r in rows if r.role == "neural"]
            self.map_param.options = names
            self.map_param.value = names[0] if names else None
        update_map_options(s.rows)
        s.param.watch(lambda e: update_map_options(e.new), "rows")
        hists = pn.panel(pn.bind(lambda snap: grid(views.parameter_histograms(snap, s.rows)), t.param.snapshot))
        globs = pn.panel(pn.bind(lambda h: grid(views.global_curves(h, s.rows)), t.param.history))
        pmap = pn.pane.HoloViews(pn.bind(lambda snap, name, data: views.parameter_map(snap, data, name),
                                         t.param.snapshot, self.map_param, t.param.data))
        truth = pn.panel(pn.bind(lambda snap, data: grid(views.learned_vs_true(snap, data, s.rows)),
                                 t.param.snapshot, t.param.data))
        return pn.Column("### Neural parameters across samples (red: bounds)", hists,
                         "### Global parameters over the epochs", globs,
                         "### Map", self.map_param, pmap, "### Learned vs true", truth)

    def model_tab(self):
        t = self.tab_views["Model"]
        ret = self.session.param.retention
        soc = pn.Column("### SOC model: saturation of the mineral-associated pool",
                        pn.panel(pn.bind(lambda snap: grid(views.moc_saturation(snap), 2), t.param.snapshot)),
                        pn.pane.HoloViews(pn.bind(views.infeasible_curve, t.param.history)))
        swrc = pn.Column("### Retention model",
                         pn.pane.HoloViews(pn.bind(lambda run, r: views.retention_curves(run, r.sample_ids if r else []),
                                                   self.session.param.run, ret)),
                         pn.Row(pn.pane.HoloViews(pn.bind(lambda r: views.awc_histogram(r.awc if r else None), ret)),
                                pn.pane.HoloViews(pn.bind(lambda r: views.shap_dependence(r.explanation if r else None),
                                                          ret))))
        soc.visible = pn.bind(lambda m: m == "soc", self.setup.param.model_name)
        swrc.visible = pn.bind(lambda m: m == "swrc", self.setup.param.model_name)
        other = pn.pane.Markdown(pn.bind(lambda m: "" if m in ("soc", "swrc") else
                                         f"No model-specific views for `{m}`.", self.setup.param.model_name))
        return pn.Column(soc, swrc, other)

    def compare_tab(self):
        def table(records):
            self.compare_pick.options = [r["label"] for r in records]
            df = self.runs.table()
            return pn.widgets.Tabulator(df, disabled=True, show_index=False, height=260) if len(df) else \
                pn.pane.Markdown("Finished runs of this session appear here, with the report's numbers as reference rows.")
        return pn.Column(pn.panel(pn.bind(table, self.runs.param.records)), self.compare_pick,
                         pn.pane.HoloViews(pn.bind(lambda recs, sel: views.compare_overlay(recs, sel),
                                                   self.runs.param.records, self.compare_pick)))

    def export_tab(self):
        t = self.session
        downloads = []
        for what, filename in (("config", "config.json"), ("metrics", "metrics.json"),
                               ("predictions", "predictions.csv"), ("parameters", "parameters.csv"),
                               ("model", "model.pt")):
            downloads.append(pn.widgets.FileDownload(
                callback=lambda w=what: export_bytes(t.run, w), filename=filename, label=f"Download {filename}",
                disabled=pn.bind(lambda run: run is None, t.param.run), width=200))
        cfg_in = pn.widgets.FileInput(accept=".json")
        msg = pn.pane.HTML("")

        def on_config(event):
            try:
                self.setup.load_config(json.loads(event.new))
                msg.object = "configuration loaded into the form"
            except (ValueError, Exception) as e:  # bad JSON or not a config: one line, no traceback
                msg.object = f"<span style='color:#c00'>{cfg_in.filename}: {e}</span>"

        cfg_in.param.watch(on_config, "value")
        return pn.Column("### Download the finished run", pn.Row(*downloads),
                         "### Load a saved config.json into the form", cfg_in, msg)

    def _tabs(self):
        self.tabs = pn.Tabs(("Training", self.training_tab()), ("Parameters", self.parameters_tab()),
                            ("Model", self.model_tab()), ("Compare runs", self.compare_tab()),
                            ("Export", self.export_tab()), dynamic=True)
        self.tabs.param.watch(lambda e: self.tab_views.get(self.TABS[e.new]) and
                              self.tab_views[self.TABS[e.new]].refresh(self.session), "active")
        return self.tabs

    def layout(self):
        intro = pn.pane.Markdown("# hybridlab: hybrid modelling dashboard\nA network predicts the *neural* parameters "
                                 "of a process model; *global* ones are learned once; *fixed* ones stay put.",
                                 sizing_mode="stretch_width")
        main = pn.Column(intro, self.controls(), self._tabs(), sizing_mode="stretch_width")
        return pn.Row(self.sidebar(), main, sizing_mode="stretch_width")


def create() -> pn.viewable.Viewable:
    """A dashboard for the current session, with its periodic refresh and clean-up."""
    dash = Dashboard()
    page = dash.layout()
    if pn.state.curdoc is not None:
        pn.state.add_periodic_callback(dash.tick, period=REFRESH_MS)
        pn.state.on_session_destroyed(dash.close)
    return page


create().servable(title="hybridlab")
