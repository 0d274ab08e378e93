"""The set-up panel: data (built-in or an upload with its column mapping), model, the parameter
table with role toggles, presets and training settings. Widgets only; the state is app.state.setup."""
from __future__ import annotations

import html

import panel as pn
import param

import core

from core.io import MAX_BYTES

from app.state.mapping import ColumnMapping
from app.state.setup import PRESET_LABELS, Setup
from app.state.uploads import Upload
from app.limits import UPLOAD_CHUNK_BYTES

#: what the upload field takes: by extension for the file chooser, and every type a browser may send
#: for such a file, since the field checks the type the browser reports. Chromium reports no type
#: ("") for .parquet and .pq where the system knows none, others application/vnd.apache.parquet or
#: application/x-parquet; Windows reports a CSV as application/vnd.ms-excel where Excel is installed.
#: The server refuses any other extension in one line.
TABLE_TYPES = [".csv", ".parquet", ".pq", "text/csv", "application/csv", "application/vnd.ms-excel", "text/plain",
               "application/vnd.apache.parquet", "application/x-parquet", "application/parquet",
               "application/octet-stream", ""]
MAP_TYPES = [".json", "application/json", "text/json", "text/plain", ""]
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


def mapping_form(mapping: ColumnMapping, choices, columns):
    """Selects for the id, each target and forcing of the chosen model, and the predictors, bound to
    the mapping's state: the file is loaded again with each change."""
    if not columns:
        return pn.Column()
    selects = [pn.widgets.Select.from_param(c.param.column, name=f"{c.kind} {c.variable}",
                                            css_classes=[f"map-{c.kind}-{c.variable}"]) for c in choices]
    return pn.Column(pn.widgets.Select.from_param(mapping.param.id_column, name="id column (site or profile)",
                                                  css_classes=["map-id"]),
                     *selects,
                     pn.widgets.MultiChoice.from_param(mapping.param.predictors, css_classes=["map-predictors"],
                                                       name="predictors (empty: all other numeric columns)"),
                     css_classes=["mapping-form"])


class BoundedFileDropper(pn.widgets.FileDropper):
    """A FileDropper that the server also bounds: chunks of a file beyond ``max_bytes`` in all are
    dropped and the file refused (a client that skips the browser's size check)."""

    max_bytes = param.Integer(default=None, allow_None=True)
    refused = param.String(default="", doc="the last file refused on the server, with why")
    refused_name = param.String(default="", doc="that file's name")

    _rename = {**pn.widgets.FileDropper._rename, "max_bytes": None, "refused": None,
               "refused_name": None}  # server side only

    def _process_event(self, event):
        data = event.data
        if event.event_name == "upload_event" and self.max_bytes is not None:
            if data["chunk"] > 1 and data["name"] not in self._file_buffer:
                return  # the rest of a refused file
            received = sum(map(len, self._file_buffer.get(data["name"], []))) if data["chunk"] > 1 else 0
            if received + len(data["data"]) > self.max_bytes:
                self._file_buffer.pop(data["name"], None)
                self.refused_name = data["name"]
                self.refused = f"{data['name']}: over this server's limit of {self.max_bytes / 1e6:g} MB"
                return
        super()._process_event(event)


def _line(css: str, text: str) -> str:
    """One line of the upload card; problems in the page's error style."""
    style = " style='color:#c00'" if css.endswith("error") else ""
    return f"<div class='{css}'{style}>{html.escape(text)}</div>" if text else ""


def upload_status(upload: Upload):
    """What was read, what the mapping loads (or why not) and the load's notes."""
    return pn.pane.HTML(pn.bind(lambda message, loaded, error, notes, map_file, map_error: "".join([
        _line("upload-message", message), _line("upload-error", error), _line("upload-loaded", loaded),
        *(_line("upload-note", note) for note in notes),
        _line("upload-map", f"column map: {map_file}" if map_file and not map_error else ""),
        _line("upload-map-error", map_error)]),
        *(upload.param[name] for name in ("message", "loaded", "error", "notes", "map_file", "map_error"))),
        sizing_mode="stretch_width")


def _on_file(dropper, read):
    """Hand the dropper's last file to ``read(filename, bytes)``; an emptied dropper hands nothing."""
    def on_file(event):
        files = event.new or {}
        if files:
            filename, content = list(files.items())[-1]
            read(filename, content if isinstance(content, bytes) else content.encode())
    dropper.param.watch(on_file, "value")


def upload_form(setup: Setup):
    """The browser refuses a file over the size limit before sending it; a file is sent in chunks
    that fit the server's websocket messages. A second, small field takes a column map."""
    limits, upload = setup.limits, setup.upload
    dropper = BoundedFileDropper(accepted_filetypes=TABLE_TYPES, multiple=False,
                                 max_file_size=f"{round(limits.upload_mb * 1000)}KB", chunk_size=UPLOAD_CHUNK_BYTES,
                                 max_bytes=int(limits.upload_mb * 1e6), css_classes=["upload"], height=90)
    map_dropper = BoundedFileDropper(accepted_filetypes=MAP_TYPES, multiple=False, max_file_size=f"{MAX_BYTES // 1000}KB",
                                     max_bytes=MAX_BYTES, css_classes=["upload-columns"], height=60)
    form = pn.panel(pn.bind(lambda choices, columns: mapping_form(upload.mapping, choices, columns),
                            upload.mapping.param.choices, upload.mapping.param.columns))
    _on_file(dropper, upload.read)
    _on_file(map_dropper, upload.load_map_file)
    dropper.param.watch(lambda event: event.new or upload.discard(), "value")  # the file removed from the field
    dropper.param.watch(lambda event: upload.refuse(dropper.refused_name, event.new), "refused")
    map_dropper.param.watch(lambda event: setattr(upload, "map_error", event.new), "refused")
    return pn.Card(pn.pane.HTML(f"<span class='upload-limits'>{html.escape(limits.upload_text())}; the file is only "
                                f"read.</span>"),
                   dropper, upload_status(upload),
                   pn.pane.HTML("<span class='upload-columns-label'>Column map (optional): a <code>*.columns.json</code> "
                                "of <code>hybridlab data lucas</code> or a <code>train --columns</code> MAP.json fills "
                                "the form below</span>"),
                   map_dropper, form, title="Upload your own data", collapsed=True, width=SIDEBAR_WIDTH - 20,
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
               widget.IntInput.from_param(s.twins, name="twins (verdicts, 0-8)", width=130, css_classes=["twins"]),
               widget.FloatInput.from_param(s.block_size, name="block size (km, spatial)", width=130,
                                            css_classes=["block-size"])),
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
