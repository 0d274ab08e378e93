"""The Role search tab: settings, Search and Stop, a status line, and the path as a table and a
figure that grow while the search runs (each step's candidates appear as their seeds finish)."""
from __future__ import annotations

import html
import statistics
from pathlib import Path

import holoviews as hv
import panel as pn

from core.formatting import number
from core.roles import MARKDOWN_FILE
from core.roles import PATH_FILE

from app.state.role_search import RoleSearchSession

BUSY = ("running", "stopping")


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def path_figure(path: list[dict], trying: dict, step: int) -> hv.Overlay:
    """Mean validation KGE ± sd per decided step (blue kept, grey not kept) with the other
    candidates of each step (light grey), and the step being trained: each candidate's mean over
    the seeds finished so far (orange). Hover names the candidates."""
    kept = [(s["step"], s["mean_val_kge"], s["sd_val_kge"]) for s in path if s["accepted"]]
    rejected = [(s["step"], s["mean_val_kge"], s["sd_val_kge"]) for s in path if not s["accepted"]]
    decided = {s["step"] for s in path}
    tried = [(s["step"], mean, name, len(s.get("neural", []))) for s in path
             for name, mean in (s.get("candidates") or {}).items() if name != s["parameter"]]
    current = [(step, mean, parameter or "all global", len(trying[parameter]))
               for parameter in trying if (mean := _mean(trying[parameter])) is not None] if step not in decided else []
    labels = {s["step"]: "start" if s["parameter"] is None else f"+{s['parameter']}" if s["accepted"]
              else f"(+{s['parameter']})" for s in path}
    ticks = [(k, labels.get(k, f"step {k}")) for k in range(max([step, *decided, 0]) + 1)]
    options = dict(color="#1f77b4", size=9)
    return (hv.Curve(kept, "step", "mean validation KGE").opts(color="#bbbbbb")
            * hv.ErrorBars(kept, "step", ["mean validation KGE", "sd"]).opts(color="#1f77b4")
            * hv.Scatter(kept, "step", "mean validation KGE").opts(**options)
            * hv.ErrorBars(rejected, "step", ["mean validation KGE", "sd"]).opts(color="#999999")
            * hv.Scatter(rejected, "step", "mean validation KGE").opts(color="#999999", size=9)
            * hv.Scatter(tried, "step", ["mean validation KGE", "parameter", "neural before"]).opts(
                color="#cccccc", size=6, tools=["hover"])
            * hv.Scatter(current, "step", ["mean validation KGE", "parameter", "seeds done"]).opts(
                color="#ff7f0e", size=7, alpha=0.7, tools=["hover"])
            ).opts(xticks=ticks, xlim=(-0.4, len(ticks) - 0.6), title="Role search: mean validation KGE ± sd over seeds",
                   responsive=True, height=320, show_legend=False)


def _identified(step: dict) -> str:
    return ", ".join(f"{name} {entry['verdict']} ({number(entry['agreement'], 2)})"
                     for name, entry in step["identifiability"].items()) or "–"


def path_table(path: list[dict], trying: dict, step: int) -> str:
    """The path as an HTML table; the step being trained as its last row, candidates best first."""
    rows = []
    for s in path:
        gain = "–" if s["gain"] is None else f"{number(s['gain'], 3)} ± {number(s['gain_sd'], 3)}"
        rows.append(f"<tr class='path-step'><td>{s['step']}</td><td>{html.escape(s['parameter'] or 'start (all global)')}"
                    f"</td><td>{number(s['mean_val_kge'], 3)} ± {number(s['sd_val_kge'], 3)}</td><td>{gain}</td>"
                    f"<td>{'yes' if s['accepted'] else 'no'}</td><td>{html.escape(_identified(s))}</td></tr>")
    if trying and step not in {s["step"] for s in path}:
        means = sorted(((m, p) for p, v in trying.items() if (m := _mean(v)) is not None), reverse=True)
        tried = ", ".join(f"{html.escape(p or 'all global')} {m:.3f} ({len(trying[p])})" for m, p in means) or "–"
        rows.append(f"<tr class='path-current'><td>{step}</td><td colspan='5'>training; mean KGE so far (seeds "
                    f"done): {tried}</td></tr>")
    header = ("<tr><th>step</th><th>made neural</th><th>mean val KGE ± sd</th><th>gain ± sd</th><th>kept</th>"
              "<th>identifiability of the neural parameters</th></tr>")
    return f"<table class='role-path'>{header}{''.join(rows)}</table>" if rows else ""


def search_status(status: str, step: int, progress: dict, message: str) -> str:
    parts = [f"<span class='search-status'>{status}</span>"]
    if status in BUSY and progress:
        total = sum(progress.values())
        parts.append(f"step {step}: {progress.get('done', 0)} of {total} runs done, {progress.get('running', 0)} "
                     f"running, {progress.get('queued', 0)} queued")
    if message:
        parts.append(f"<span class='search-message'>{html.escape(message)}</span>")
    return " · ".join(parts)


def _download(search: RoleSearchSession, filename: str, ready) -> pn.widgets.FileDownload:
    """A download of one of the search folder's files, enabled while ``ready`` (a bound function) holds."""
    return pn.widgets.FileDownload(callback=lambda: str(Path(search.folder) / filename), filename=filename,
                                   label=f"Download {filename}", width=220, disabled=pn.bind(lambda *a: not ready(*a),
                                                                                             search.param.path,
                                                                                             search.param.status))


def role_search_tab(search: RoleSearchSession, setup, training_status) -> pn.Column:
    """The tab; ``training_status``: the page's training status parameter (no search while a training runs)."""
    p = search.param
    seeds = pn.widgets.IntInput.from_param(search.param.seeds, name="seeds", width=100, css_classes=["search-seeds"])
    candidates = pn.widgets.MultiChoice(name="candidates (empty: every parameter not fixed)", width=420,
                                        options=pn.bind(lambda rows: [r.pname for r in rows], setup.param.rows))
    candidates.param.watch(lambda event: setattr(search, "candidates", list(event.new)), "value")
    start = pn.widgets.Button(name="Search roles", button_type="primary", width=140, css_classes=["search-start"],
                              disabled=pn.bind(lambda errors, status, training: bool(errors) or status in BUSY
                                               or training in ("queued", "training", "stopping"),
                                               setup.param.errors, search.param.status, training_status))
    stop = pn.widgets.Button(name="Stop search", button_type="warning", width=140, css_classes=["search-stop"],
                             disabled=pn.bind(lambda status: status != "running", search.param.status))
    use = pn.widgets.Button(name="Use the roles found", width=180, css_classes=["search-use"],
                            disabled=pn.bind(lambda path, status: not path or status in BUSY, p.path, p.status))
    start.on_click(lambda event: search.start(setup))
    stop.on_click(lambda event: search.stop())
    use.on_click(lambda event: search.use_roles(setup))
    intro = pn.pane.Markdown(
        "Which parameters should be neural? Starting from every candidate global, each step trains each "
        "remaining candidate as neural with every seed, and keeps the best if its gain in mean validation KGE is "
        "larger than the sd of that gain over seeds (docs/identifiability.md). The other settings are the form's; "
        "parameters that are not candidates keep their role in the form.",
        sizing_mode="stretch_width")
    return pn.Column(intro, pn.Row(seeds, candidates), pn.Row(start, stop, use),
                     pn.pane.HTML(pn.bind(search_status, p.status, p.step, p.progress, p.message)),
                     pn.pane.HoloViews(pn.bind(path_figure, p.path, p.trying, p.step), sizing_mode="stretch_width"),
                     pn.pane.HTML(pn.bind(path_table, p.path, p.trying, p.step), sizing_mode="stretch_width"),
                     pn.Row(_download(search, PATH_FILE, lambda path, status: bool(path)),
                            _download(search, MARKDOWN_FILE, lambda path, status: bool(path) and status not in BUSY)),
                     sizing_mode="stretch_width")
