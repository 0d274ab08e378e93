"""``members``: an ensemble run's members; their mean is the centre, their sd the spread."""
from core.hybrid.members import MemberModel
from core.uncertainty.registry import SampleSource


def _draw(model, tensors, predictions, passes, seed):
    return predictions.mean(0), predictions


SPEC = SampleSource(name="members", description="an ensemble's members", rank=1,
                    applies=lambda model: isinstance(model, MemberModel), draw=_draw)
