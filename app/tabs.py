"""The dashboard's tabs: live training plots, the registered views of the chosen model
(Parameters, Model), the comparison of finished runs, and the downloads."""
from __future__ import annotations

import html

import panel as pn

import core

from .runs import RunTable, export_bytes
from .setup import Setup
from .views import ViewState, views_for
from .views.compare import compare_overlay

VIEW_TABS = ("Parameters", "Model")
MAX_COLUMNS = 2


def grid(items, columns: int = 4):
    """A list of HoloViews elements as a grid of separate panes (a single element or text as is).
    At most MAX_COLUMNS to a row, so that the plots fit beside the set-up panel at 1366 px."""
    if isinstance(items, list):
        return pn.GridBox(*(pn.pane.HoloViews(e) for e in items), ncols=min(columns, MAX_COLUMNS))
    return pn.pane.HoloViews(items)


def kge_text(snapshot) -> str:
    if snapshot is None:
        return ""
    cells = " · ".join(f"{html.escape(core.formatting.label(t))} {v['val']['kge']:.3f}"
                       for t, v in snapshot.targets.items()
                       if v["val"]["kge"] is not None)
    return f"<div class='kge-values'>validation KGE at epoch {snapshot.epoch}: {cells}</div>"


def training_tab(session, live):
    return pn.Column(live.loss_container, pn.pane.HTML(pn.bind(kge_text, session.param.snapshot)), live.container,
                     sizing_mode="stretch_width")


def view_tab(tab: str, setup: Setup, state: ViewState):
    """The registered views of ``tab`` that the chosen model offers; rebuilt when the model changes."""
    def build(model_name):
        views = views_for(tab, core.get_model(model_name))
        if not views:
            return pn.pane.Markdown(f"No {tab.lower()} views for model `{model_name}`.")
        parts = []
        for view in views:
            draw = pn.bind(lambda *_, v=view: grid(v.draw(state), v.columns), *(state.param[d] for d in view.depends))
            parts += [f"### {view.title}", pn.panel(draw, sizing_mode="stretch_width")]
        return pn.Column(*parts, sizing_mode="stretch_width")
    return pn.panel(pn.bind(build, setup.param.model_name), sizing_mode="stretch_width")


def compare_tab(runs: RunTable):
    pick = pn.widgets.MultiChoice(name="overlay runs", options=[])

    def table(records):
        pick.options = [r["label"] for r in records]
        frame = runs.table()
        if not len(frame):
            return pn.pane.Markdown("Finished runs of this session appear here, with the report's numbers as "
                                    "reference rows.")
        note = (f"This server keeps the last {runs.keep} runs of a session; {runs.dropped} older run(s) dropped out."
                if runs.dropped else "")
        return pn.Column(pn.widgets.Tabulator(frame, disabled=True, show_index=False, height=260),
                         pn.pane.HTML(f"<span class='runs-dropped'>{note}</span>" if note else ""))
    return pn.Column(pn.panel(pn.bind(table, runs.param.records)), pick,
                     pn.pane.HoloViews(pn.bind(compare_overlay, runs.param.records, pick)))


def export_tab(session, setup: Setup):
    downloads = [pn.widgets.FileDownload(callback=lambda what=what: export_bytes(session.run, what), filename=filename,
                                         label=f"Download {filename}", width=200,
                                         disabled=pn.bind(lambda run: run is None, session.param.run))
                 for what, filename in (("config", "config.json"), ("metrics", "metrics.json"),
                                        ("predictions", "predictions.csv"), ("parameters", "parameters.csv"),
                                        ("model", "model.pt"))]
    config_input = pn.widgets.FileInput(accept=".json,.yaml,.yml")
    message = pn.pane.HTML("")

    def on_config(event):
        name = config_input.filename or "config.json"
        try:
            setup.load_config_file(name, event.new)
            message.object = "configuration loaded into the form"
        except core.HybridlabError as e:  # one line, no traceback
            message.object = f"<span style='color:#c00'>{html.escape(name)}: {html.escape(str(e))}</span>"

    config_input.param.watch(on_config, "value")
    return pn.Column("### Download the finished run", pn.Row(*downloads),
                     "### Load a saved config.json or plan.yaml into the form", config_input, message)
