"""The dashboard's tabs: live training plots, the comparison of finished runs, and the downloads
(the registered views of the Parameters and Model tabs are in :mod:`app.ui.view_tabs`)."""
from __future__ import annotations

import html

import panel as pn

import core
from core.formatting import short_text

from app.state.baselines import BaselineFits
from app.state.runs import RunTable, export_bytes
from app.state.setup import Setup
from app.ui.view_tabs import grid
from app.ui.views.compare import compare_overlay

VIEW_TABS = ("Parameters", "Model")


#: where a calibrated run's intervals come from (calibration.json ``source``), in words
INTERVAL_SOURCES = {"members": "the spread of its {members} members", "mc_dropout": "MC-dropout of its one network",
                    "none": "its residuals alone"}


def interval_source(run) -> str:
    """What a calibrated run's intervals are made from, e.g. 'the spread of its 3 members'; empty
    without calibration."""
    calibration = getattr(run, "calibration", None) or {}
    source = calibration.get("source")
    if source is None:
        return ""
    members = len(run.metrics.get("members") or []) or 1
    return INTERVAL_SOURCES.get(source, source).format(members=members)


def kge_text(snapshot, run=None) -> str:
    """Validation KGE per target and, for a calibrated run that finished, its 90 % intervals'
    coverage of the validation sites and what they are made from."""
    if snapshot is None:
        return ""
    cells = " · ".join(f"{html.escape(core.formatting.label(t))} {v['val']['kge']:.3f}"
                       for t, v in snapshot.targets.items()
                       if v["val"]["kge"] is not None)
    text = f"<div class='kge-values'>validation KGE at epoch {snapshot.epoch}: {cells}</div>"
    coverage = " · ".join(f"{html.escape(core.formatting.label(t))} {v['val']['picp']:.2f}"
                          for t, v in snapshot.targets.items() if v["val"].get("picp") is not None)
    if coverage:
        source = interval_source(run)
        made = f"; from <span class='interval-source'>{html.escape(source)}</span>" if source else ""
        text += (f"<div class='coverage-values'>90 % interval covers, on validation sites: {coverage} "
                 f"(ideal 0.90{made}; Model tab: reliability)</div>")
    return text


def training_tab(session, live):
    return pn.Column(live.loss_container, pn.pane.HTML(pn.bind(kge_text, session.param.snapshot, session.param.run)), live.container,
                     sizing_mode="stretch_width")


def compare_tab(runs: RunTable, baselines: BaselineFits):
    pick = pn.widgets.MultiChoice(name="overlay runs", options=[])
    split_of = pn.widgets.Select(name="fit the baselines on the split of", options=[], width=320,
                                 css_classes=["baseline-run"])
    fit = pn.widgets.Button(name="Fit baselines", button_type="default", width=140, css_classes=["fit-baselines"],
                            disabled=pn.bind(lambda running, records: running or not records, baselines.param.running,
                                             runs.param.records))
    fit.on_click(lambda _: baselines.start(runs.record(split_of.value)))

    def table(records, extra):
        pick.options = split_of.options = [r["label"] for r in records]
        frame = runs.table(extra=extra)
        if not len(frame):
            return pn.pane.Markdown("Finished runs of this session appear here, with the report's numbers as "
                                    "reference rows.")
        note = (f"This server keeps the last {runs.keep} runs of a session; {runs.dropped} older run(s) dropped out."
                if runs.dropped else "")
        return pn.Column(pn.widgets.Tabulator(frame, disabled=True, show_index=False, height=260),
                         pn.pane.HTML(f"<span class='runs-dropped'>{note}</span>" if note else ""))
    status = pn.pane.HTML(pn.bind(lambda text: f"<span class='baseline-status'>{html.escape(text)}</span>",
                                  baselines.param.status))
    return pn.Column(pn.panel(pn.bind(table, runs.param.records, baselines.param.rows)),
                     pn.pane.Markdown("The methods people use instead (a random forest, a quantile regression "
                                      "forest, and Rosetta3 or the flux network's Reco where they apply), fitted "
                                      "on a run's own training rows and scored on its validation rows:"),
                     pn.Row(split_of, fit, status), pick,
                     pn.panel(pn.bind(lambda records, chosen: grid(compare_overlay(records, chosen)), runs.param.records,
                                      pick), sizing_mode="stretch_width"))


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
        except Exception as e:  # noqa: BLE001 - whatever the file holds: one line, no traceback
            text = str(e) if isinstance(e, core.HybridlabError) else f"{name}: cannot be loaded ({type(e).__name__})"
            message.object = f"<span style='color:#c00'>{html.escape(short_text(text))}</span>"

    config_input.param.watch(on_config, "value")
    return pn.Column("### Download the finished run", pn.Row(*downloads),
                     "### Load a saved config.json or plan.yaml into the form", config_input, message)
