"""``nn``: the pure network on the same backbone, trained through today's path beside the hybrid
(same data, predictors, targets, split, network and training settings, seeds and folds). It sees
the forcing as inputs beside the predictors (:class:`~core.models.NetworkSpec`), as log10 where
the hybrid's model declares it spans decades (``log_forcing``: suction h as pF, as a soil
physicist would give it; on UNSODA it brings the network level with the hybrid, docs/real-data.md)."""
from __future__ import annotations

from core.models import NEURAL_NETWORK
from core.run.plan import RunPlan
from core.baselines.spec import BaselineSpec, applies_anywhere


def configuration(plan: RunPlan, targets: list[str]) -> RunPlan:
    """The hybrid's plan as the pure network: no mechanistic parameters, the hybrid's targets, and
    ``log10_<forcing>`` for each forcing the hybrid's model lists in ``log_forcing``."""
    options = {f"log10_{name}": 1 for name in plan.spec.log_forcing}
    return RunPlan(model=NEURAL_NETWORK, data=plan.data.to_dict(), targets=list(targets), split=plan.split.to_dict(),
                   network=plan.network.to_dict(), train=plan.train.to_dict(), options=options)


BASELINE = BaselineSpec(name="nn", description="the pure neural network on the same backbone and settings",
                        applies=applies_anywhere, configuration=configuration)
