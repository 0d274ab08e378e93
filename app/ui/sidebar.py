"""The set-up panel: data (built-in or an upload with its column mapping), model, the parameter
table with role toggles, presets and training settings. Widgets only; the state is app.state.setup."""
from __future__ import annotations

import html

import panel as pn
import param

import core

from app.state.setup import PRESET_LABELS, Setup
from app.limits import UPLOAD_CHUNK_BYTES

NONE = "(none)"
#: the set-up panel's width in pixels; the main area takes the rest of the window
SIDEBAR_WIDTH = 600


#: badge colours of the ensemble verdicts
BADGE_COLOURS = {"identified": "#1a7f37", "weak": "#9a6700", "not identified": "#c00", "not tested": "#666",
                 "no verdict": "#666"}


def _badge(agreement: str, reason: str = "") -> str:
    """The verdict as a coloured badge; ``reason`` shows on hover (and to screen readers)."""
    if not agreement:
        return ""
    colour = next((c for verdict, c in sorted(BADGE_COLOURS.items(), key=lambda item: -len(item[0]))
                   if agreement.startswith(verdict)), "#666")
    hover = f' title="{html.escape(reason)}" aria-label="{html.escape(agreement)}: {html.escape(reason)}"' if reason else ""
    return (f'<br><span class="agreement"{hover} style="color:#fff;background:{colour};border-radius:3px;padding:0 3px;'
            f'font-size:11px;cursor:help">{html.escape(agreement)}</span>')


def _row_label(name: str, description: str, unit: str, error: str, agreement: str = "", reason: str = "") -> str:
    text = f"<b>{html.escape(name)}</b><br><small>{html.escape(description)} [{html.escape(unit)}]</small>"
    text += _badge(agreement, reason)
    return text + (f'<br><span class="row-error" style="color:#c00">{html.escape(error)}</span>' if error else "")


def parameter_table(setup: Setup):
    if not setup.rows:
        return pn.pane.Markdown(f"Model `{setup.model_name}` has no mechanistic parameters.")
    header = pn.Row(*(pn.pane.Markdown(f"**{h}**", width=w) for h, w in
                      (("parameter", 130), ("role", 170), ("lower", 70), ("upper", 70), ("fixed value", 70))), margin=0)
    rows = [header]
    for r in setup.rows:
        role = pn.widgets.RadioButtonGroup.from_param(r.param.role, options=r.allowed_roles, width=170,
                                                      button_type="primary", button_style="outline", name="",
                                                      css_classes=["role"])
        lower = pn.widgets.FloatInput.from_param(r.param.lower, width=70, name="", css_classes=["lower"])
        upper = pn.widgets.FloatInput.from_param(r.param.upper, width=70, name="", css_classes=["upper"])
        value = pn.widgets.FloatInput.from_param(r.param.value, width=70, name="",
                                                 disabled=pn.bind(lambda role: role != "fixed", r.param.role))
        # name, description and the row's problem in one pane: every Panel object costs the server
        # about 2-3 ms of each page's build, and 19 rows made this table most of it
        label = pn.pane.HTML(pn.bind(_row_label, r.pname, r.description, r.unit, r.param.error, r.param.agreement,
                                     r.param.reason),
                             width=130,
                             css_classes=["param-name"])
        rows.append(pn.Row(label, role, lower, upper, value, margin=(2, 0), css_classes=[f"param-row-{r.pname}"]))
    # no fixed height: a scroll box of fixed height let the next card overlay its rows
    return pn.Column(*rows, width=SIDEBAR_WIDTH - 20, css_classes=["parameter-list"])


def presets(setup: Setup):
    buttons = []
    for name in setup.presets:
        button = pn.widgets.Button(name=PRESET_LABELS.get(name, name), button_type="light", width=110)
        button.on_click(lambda event, preset=name: setup.apply_preset(preset))
        buttons.append(button)
    return pn.Row(*buttons)


def mapping_form(setup: Setup, columns: list[str]):
    """Selects for the id, each target and forcing of the chosen model, and the predictors."""
    if not columns:
        return pn.Column()
    spec = setup.spec
    id_select = pn.widgets.Select(name="id column (site or profile)", options=columns)
    target_selects = {t: pn.widgets.Select(name=f"target {t}", options=[NONE] + columns,
                                           value=t if t in columns else NONE) for t in spec.targets}
    forcing_selects = {f: pn.widgets.Select(name=f"forcing {f}", options=[NONE] + columns,
                                            value=f if f in columns else NONE) for f in spec.all_forcing()}
    predictors = pn.widgets.MultiChoice(name="predictors (empty: all other numeric columns)", options=columns)
    load = pn.widgets.Button(name="Load with this mapping", button_type="primary")

    def apply(_):
        setup.apply_mapping({"id": id_select.value,
                             "targets": {t: w.value for t, w in target_selects.items() if w.value != NONE},
                             "forcing": {f: w.value for f, w in forcing_selects.items() if w.value != NONE},
                             "predictors": predictors.value or "*"})

    load.on_click(apply)
    return pn.Column(id_select, *target_selects.values(), *forcing_selects.values(), predictors, load)


class BoundedFileDropper(pn.widgets.FileDropper):
    """A FileDropper that the server also bounds: chunks of a file beyond ``max_bytes`` in all are
    dropped and the file refused (a client that skips the browser's size check)."""

    max_bytes = param.Integer(default=None, allow_None=True)
    refused = param.String(default="", doc="the last file refused on the server, with why")

    _rename = {**pn.widgets.FileDropper._rename, "max_bytes": None, "refused": None}  # server side only

    def _process_event(self, event):
        data = event.data
        if event.event_name == "upload_event" and self.max_bytes is not None:
            if data["chunk"] > 1 and data["name"] not in self._file_buffer:
                return  # the rest of a refused file
            received = sum(map(len, self._file_buffer.get(data["name"], []))) if data["chunk"] > 1 else 0
            if received + len(data["data"]) > self.max_bytes:
                self._file_buffer.pop(data["name"], None)
                self.refused = f"{data['name']}: over this server's limit of {self.max_bytes / 1e6:g} MB"
                return
        super()._process_event(event)


def upload_form(setup: Setup):
    """The browser refuses a file over the size limit before sending it; a file is sent in chunks
    that fit the server's websocket messages."""
    limits = setup.limits
    dropper = BoundedFileDropper(accepted_filetypes=[".csv", ".parquet", ".pq"], multiple=False,
                                 max_file_size=f"{round(limits.upload_mb * 1000)}KB", chunk_size=UPLOAD_CHUNK_BYTES,
                                 max_bytes=int(limits.upload_mb * 1e6), css_classes=["upload"], height=90)
    form = pn.panel(pn.bind(lambda columns, model: mapping_form(setup, columns),
                            setup.upload.param.columns, setup.param.model_name))  # a new model, new targets
    message = pn.pane.HTML(pn.bind(lambda m: f"<span class='upload-message'>{html.escape(m)}</span>" if m else "",
                                   setup.upload.param.message))

    def on_file(event):
        files = event.new or {}
        if not files:
            setup.upload.discard()
            return
        filename, content = list(files.items())[-1]
        setup.upload.read(filename, content if isinstance(content, bytes) else content.encode())

    dropper.param.watch(on_file, "value")
    dropper.param.watch(lambda event: setattr(setup.upload, "message", event.new), "refused")
    return pn.Card(pn.pane.HTML(f"<span class='upload-limits'>{html.escape(limits.upload_text())}; the file is only "
                                f"read.</span>"),
                   dropper, message, form, title="Upload your own data", collapsed=True, width=SIDEBAR_WIDTH - 20,
                   css_classes=["upload-card"])


def settings_card(setup: Setup):
    s = setup.param
    widget = pn.widgets
    return pn.Card(
        pn.Row(widget.Select.from_param(s.optimizer, width=130),
               widget.FloatInput.from_param(s.lr, name="learning rate", width=130)),
        pn.Row(widget.IntInput.from_param(s.batch_size, name="batch size", width=130),
               widget.IntInput.from_param(s.epochs, name="max epochs", css_classes=["epochs"], width=130),
               widget.IntInput.from_param(s.patience, css_classes=["patience"], width=130)),
        pn.Row(widget.TextInput.from_param(s.hidden, name="hidden layers", width=130),
               widget.Select.from_param(s.activation, width=130), widget.FloatInput.from_param(s.dropout, width=130)),
        pn.Row(widget.Select.from_param(s.loss, width=130), widget.Select.from_param(s.weighting, width=130),
               widget.Select.from_param(s.split, width=130), widget.IntInput.from_param(s.seed, width=130)),
        pn.Row(widget.IntInput.from_param(s.ensemble, name="ensemble (seeds, 1-10)", width=130,
                                          css_classes=["ensemble"]),
               widget.IntInput.from_param(s.twins, name="twins (verdicts, 0-8)", width=130, css_classes=["twins"])),
        pn.Row(widget.Checkbox.from_param(s.intervals, name=f"90 % intervals (hold out {core.INTERVAL_CALIBRATION:.0%} to calibrate)",
                                          css_classes=["intervals"], width=260)),
        title="Training settings", collapsed=False, width=SIDEBAR_WIDTH - 20, css_classes=["training-settings"])


def sidebar(setup: Setup):
    data = pn.Column(pn.widgets.Select.from_param(setup.param.data_name, name="data", css_classes=["data-select"]),
                     pn.widgets.IntInput.from_param(setup.param.n_sites, name="sites (built-in data; empty = all)",
                                                    css_classes=["n-sites"]),
                     upload_form(setup))
    model = pn.widgets.Select.from_param(setup.param.model_name, name="model (nn = pure neural network)",
                                         css_classes=["model-select"])
    table = pn.Column(width=SIDEBAR_WIDTH - 10, min_height=200)

    def fill(*_):
        table.objects = [presets(setup), parameter_table(setup)]

    # a new model brings new rows and presets; on a server the table is built once the page shows
    # (it is most of a page's build), so Train can be pressed while it arrives
    setup.param.watch(fill, "rows")
    pn.state.onload(fill)
    return pn.Column("## Set-up", data, model, "### Parameters: role, bounds, fixed value", table,
                     settings_card(setup), width=SIDEBAR_WIDTH)
