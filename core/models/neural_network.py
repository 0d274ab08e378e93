"""The pure neural network baseline, registered as ``nn``: the same backbone as the hybrids, its
last layer giving the targets directly (no mechanistic parameters)."""
from core.models.spec import NetworkSpec

MODEL = NetworkSpec(
    name="nn",
    description="pure neural network baseline (targets straight from the last layer)",
)
