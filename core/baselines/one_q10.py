"""``one_q10``: the classical respiration fit, every parameter global (the model's ``all_global``
roles: one Q10 and one base rate for all sites and times), trained through today's path on the
same rows, seeds and folds as the hybrid."""
from __future__ import annotations

from core.datasets import HybridData
from core.models import ModelSpec
from core.run.plan import RunPlan
from core.formatting import short_repr
from core.baselines.spec import BaselineSpec

ROLES = "all_global"


def applies(model: ModelSpec, data: HybridData, targets: list[str]) -> str | None:
    if not model.has_parameters:
        return f"model {short_repr(model.name)} has no mechanistic parameters"
    parameters = model.parameters()
    if "q10" not in parameters.names or ROLES not in parameters.presets:
        return f"it needs a model with a q10 parameter and an {ROLES} preset; model {short_repr(model.name)} has none"
    return None


def configuration(plan: RunPlan, targets: list[str]) -> RunPlan:
    """The hybrid's plan with every parameter global (fixed values and bounds kept)."""
    return plan.replace(roles=ROLES, targets=list(targets))


BASELINE = BaselineSpec(name="one_q10", description="the classical fit: one global Q10 and base rate (all_global roles)",
                        applies=applies, configuration=configuration, reference="Lloyd & Taylor 1994; Reichstein et al. 2005")
