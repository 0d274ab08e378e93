"""What an ensemble's metrics.json says about its members as a group, from their own metrics:
the spread of each learned global parameter over the members (``globals``), the epochs each
member trained (``member_epochs``) and the members whose validation KGE lies far below the
others' (``outlier_members``).

The outlier rule is robust: a member is named when its mean validation KGE lies more than
:data:`OUTLIER_LIMIT` robust sd below the members' median, the robust sd being 1.4826 × the median
absolute deviation (MAD), which estimates the sd of normally spread values without letting the
outlier itself widen it. Near-identical members have a MAD close to 0, and then any tiny
difference would count; so the MAD is taken as at least :data:`MAD_FLOOR` (0.02 KGE): a member is
named only when it lies at least 3 × 1.4826 × 0.02 ≈ 0.089 KGE below the median. Seeds of one
configuration commonly differ by an sd of 0.01–0.05 KGE (docs/ensembles.md), which stays below
that.
"""
from __future__ import annotations

import math

import numpy as np

#: robust sd below the members' median beyond which a member is named
OUTLIER_LIMIT = 3.0
#: normal consistency constant: 1.4826 × MAD estimates the sd of normally spread values
MAD_TO_SD = 1.4826
#: the least MAD (in KGE) the rule uses, so that near-identical members are not named
MAD_FLOOR = 0.02
#: fewer members than this have no "others" to stand out from
OUTLIER_MIN_MEMBERS = 3


def outlier_threshold(kges) -> float:
    """The validation KGE below which a member counts as an outlier (NaN for fewer than
    :data:`OUTLIER_MIN_MEMBERS` finite values): median − 3 × 1.4826 × max(MAD, 0.02)."""
    values = np.asarray([k for k in kges if k is not None and math.isfinite(k)], dtype=float)
    if len(values) < OUTLIER_MIN_MEMBERS:
        return math.nan
    median = float(np.median(values))
    mad = max(float(np.median(np.abs(values - median))), MAD_FLOOR)
    return median - OUTLIER_LIMIT * MAD_TO_SD * mad


def outlier_members(kges) -> list[int]:
    """Positions of the members whose validation KGE lies far below the others'.

    Parameters
    ----------
    kges : sequence of float
        One validation KGE per member (NaN or None for a member without one).

    Returns
    -------
    list of int
        Positions in ``kges`` below :func:`outlier_threshold`, and those without a finite KGE
        when at least :data:`OUTLIER_MIN_MEMBERS` others have one; empty for fewer members.
    """
    threshold = outlier_threshold(kges)
    if not math.isfinite(threshold):
        return []
    return [i for i, k in enumerate(kges) if k is None or not math.isfinite(k) or k < threshold]


def outlier_records(members: list[dict]) -> list[dict]:
    """metrics.json's ``outlier_members``: for each member :func:`outlier_members` names (by the
    mean validation KGE of its metrics), its number, seed, validation KGE (its own, overall and per
    target; the members' median; the threshold) and the reason in words."""
    kges = [m.get("mean_val_kge", math.nan) for m in members]
    threshold = outlier_threshold(kges)
    median = float(np.nanmedian(np.asarray(kges, dtype=float))) if members else math.nan
    records = []
    for i in outlier_members(kges):
        m = members[i]
        own = kges[i]
        per_target = {t: (s.get("val") or {}).get("kge", math.nan) for t, s in (m.get("targets") or {}).items()}
        what = (f"its mean validation KGE {own:.3f} lies more than {OUTLIER_LIMIT:g} robust sd below the members' "
                f"median {median:.3f} (threshold {threshold:.3f})") if math.isfinite(own) else \
            "its mean validation KGE is not a number"
        records.append({"member": m["member"], "seed": m["seed"],
                        "val_kge": {"mean": own, "targets": per_target, "members_median": median,
                                    "threshold": threshold},
                        "reason": f"member {m['member']} (seed {m['seed']}): {what}; it is still averaged into "
                                  f"the ensemble"})
    return records


def member_globals(ensemble: dict, members: list[dict]) -> dict:
    """The ensemble's ``globals`` (the members' mean, as :func:`core.run.evaluation.learned_globals`
    gives it) with each parameter's per-member values (``members``: member, seed, value,
    at_bound), their sd, min and max, and how many members sit at a bound (``members_at_bound``)."""
    result = {}
    for name, entry in ensemble.items():
        own = [{"member": m["member"], "seed": m["seed"], "value": m["globals"][name]["value"],
                "at_bound": m["globals"][name]["at_bound"]} for m in members if name in m.get("globals", {})]
        values = np.asarray([o["value"] for o in own], dtype=float)
        finite = values[np.isfinite(values)]
        result[name] = {**entry, "n": int(len(finite)),
                        "sd": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0 if len(finite) else math.nan,
                        "min": float(finite.min()) if len(finite) else math.nan,
                        "max": float(finite.max()) if len(finite) else math.nan,
                        "members_at_bound": sum(o["at_bound"] is not None for o in own), "members": own}
    return result


def member_epochs(members: list[dict]) -> list[dict]:
    """metrics.json's ``member_epochs``: each member's number, seed, epochs run, best epoch and
    why it stopped."""
    return [{"member": m["member"], "seed": m["seed"], "epochs_run": m["epochs_run"], "best_epoch": m["best_epoch"],
             "stopped": m["stopped"]} for m in members]


__all__ = ["MAD_FLOOR", "OUTLIER_LIMIT", "member_epochs", "member_globals", "outlier_members", "outlier_records",
           "outlier_threshold"]
