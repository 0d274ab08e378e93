"""Under the status line: whether the finished run fits each target, said plainly beside the result
(``core.identify.target_fit_problems``), with what to try when it does not."""
from __future__ import annotations

import html

import panel as pn

from core.formatting import label
from core.identify import target_fit_problems


def advice(run) -> str:
    """What to try next, from the run's own settings: more epochs when it ran to its last one, a
    lower learning rate, fewer neural parameters."""
    metrics, train = run.metrics, run.plan.train
    tips = []
    if metrics.get("stopped") == "max epochs" or metrics.get("epochs_run", 0) >= train.epochs:
        tips.append(f"more epochs (it ran all {train.epochs}; the best epoch was {metrics.get('best_epoch')})")
    tips.append(f"a lower learning rate (now {train.lr:g}; try {train.lr / 3:.2g})")
    neural = [p.name for p in run.plan.parameter_set() if p.role == "neural"]
    if neural:
        tips.append(f"fewer neural parameters (now {len(neural)}: {', '.join(neural)})")
    tips.append("another seed")
    return "; ".join(tips)


#: what a neural parameter's ``problem`` (metrics.json ``neural``) means, in words
PARAMETER_PROBLEMS = {"at_bound": "pinned at a bound at {share:.0f} % of the sites",
                      "constant": "the same at every site ({p05:.4g}–{p95:.4g})"}


def parameter_warning_text(run) -> str:
    """HTML: the neural parameters that learned no per-site field (pinned at a bound, or one value
    everywhere), from the run's ``neural`` metrics; empty when there are none."""
    neural = (run.metrics.get("neural") or {}) if run is not None else {}
    flagged = {name: n for name, n in neural.items() if n.get("problem") in PARAMETER_PROBLEMS}
    model = model_warning_text(run)
    if not flagged:
        return model
    items = "".join(f"<li class='parameter-problem'><b>{html.escape(name)}</b>: "
                    f"{html.escape(PARAMETER_PROBLEMS[n['problem']].format(share=100 * n['share_at_bound'], **n))}"
                    f"</li>" for name, n in flagged.items())
    return (f"<div class='parameter-warning' style='color:#8a1c00;white-space:normal'><b>{len(flagged)} of "
            f"{len(neural)} neural parameters learned no per-site field.</b><ul style='margin:2px 0'>{items}</ul>"
            f"Try: wider bounds, more epochs, or make them global.</div>" + model)


def model_warning_text(run) -> str:
    """HTML: the model's own warnings (metrics.json ``diagnostics.warnings``, e.g. a SOC run whose
    q_max is not identified because sorption runs in its linear range); empty without any."""
    warnings = ((run.metrics.get("diagnostics") or {}).get("warnings") or []) if run is not None else []
    if not warnings:
        return ""
    items = "".join(f"<li class='model-warning'>{html.escape(w)}</li>" for w in warnings)
    return f"<div class='model-warnings' style='color:#8a1c00;white-space:normal'><ul style='margin:2px 0'>{items}</ul></div>"


def fit_warning_text(run) -> str:
    """HTML: one line per target that failed or fits poorly, and what to try, then the neural
    parameters that learned no per-site field; empty when all is well (or no run has finished)."""
    if run is None:
        return ""
    problems = target_fit_problems(run.metrics)
    if not problems:
        return parameter_warning_text(run)
    failed = any(p["level"] == "failed" for p in problems)
    head = "The fit failed" if failed else "The fit is poor"
    items = "".join(f"<li class='fit-problem fit-{p['level']}'><b>{html.escape(label(p['target']))}</b>: "
                    f"{html.escape(p['reason'])}</li>" for p in problems)
    return (f"<div class='fit-warning' style='color:#8a1c00;white-space:normal'><b>{head} for "
            f"{len(problems)} of {len(run.metrics['targets'])} targets.</b><ul style='margin:2px 0'>{items}</ul>"
            f"Try: {html.escape(advice(run))}.</div>" + parameter_warning_text(run))


def fit_warning_pane(session):
    """The warning, refreshed when a run finishes (the session's ``run``)."""
    return pn.pane.HTML(pn.bind(fit_warning_text, session.param.run), sizing_mode="stretch_width")
