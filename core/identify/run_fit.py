"""Whether one finished run fits each of its targets, from its metrics alone: the targets whose
validation fit failed (the rule of :mod:`.fit`: KGE below the 1 - sqrt(2) of predicting the mean)
or is poor (KGE below 0, or the predictions' spread collapsed: alpha below :data:`MIN_ALPHA`)."""
from __future__ import annotations

import math

from core.identify.fit import MIN_TARGET_KGE

#: a target's predictions whose sd is below this share of the observations' sd (KGE's alpha) have
#: collapsed towards one value: the network predicts nearly the same at every site
MIN_ALPHA = 0.3
#: below this validation KGE a fit is poor (though better than predicting the mean)
POOR_KGE = 0.0


def _finite(value) -> float:
    return float(value) if value is not None and math.isfinite(float(value)) else math.nan


def target_fit_problems(metrics: dict, split: str = "val") -> list[dict]:
    """The targets of a run's metrics (``metrics.json``: ``targets`` -> split -> kge, alpha) that
    did not fit on ``split``, worst first.

    Parameters
    ----------
    metrics : dict
        A run's metrics (``run.metrics``).
    split : str
        "val" (default) or "train".

    Returns
    -------
    list of dict
        One per such target: ``target``, ``kge``, ``alpha`` (NaN where unknown), ``level``
        ("failed": KGE below ``MIN_TARGET_KGE`` or not finite; "poor": KGE below ``POOR_KGE`` or
        alpha below ``MIN_ALPHA``) and ``reason`` (one phrase).
    """
    problems = []
    for target, entry in (metrics.get("targets") or {}).items():
        values = entry.get(split) or {}
        kge, alpha = _finite(values.get("kge")), _finite(values.get("alpha"))
        if not kge >= MIN_TARGET_KGE:
            level, reason = "failed", (f"validation KGE {kge:.2f}, below the {MIN_TARGET_KGE:.2f} of predicting "
                                       f"the mean" if math.isfinite(kge) else "no finite validation KGE")
        elif alpha < MIN_ALPHA:
            level, reason = "poor", (f"its predictions collapsed towards one value (alpha {alpha:.2f}: their spread "
                                     f"is {100 * alpha:.0f} % of the observed); validation KGE {kge:.2f}")
        elif kge < POOR_KGE:
            level, reason = "poor", f"validation KGE {kge:.2f}, below 0"
        else:
            continue
        problems.append({"target": target, "kge": kge, "alpha": alpha, "level": level, "reason": reason})
    return sorted(problems, key=lambda p: (p["level"] != "failed", p["kge"] if math.isfinite(p["kge"]) else -math.inf))
