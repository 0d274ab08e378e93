import pytest
import torch

from core.errors import ParameterError
from core.models import get_model
from core.hybrid.parameters import Parameter, ParameterSet


def test_bad_declarations_name_the_parameter():
    with pytest.raises(ParameterError, match="'k'.*lower bound 5 must be below upper bound 1"):
        Parameter("k", "rate", "1/yr", 2.0, 5.0, 1.0)
    with pytest.raises(ParameterError, match="'k'.*default 9 lies outside"):
        Parameter("k", "rate", "1/yr", 9.0, 0.0, 1.0)
    with pytest.raises(ParameterError, match="'k'.*log scale needs a lower bound > 0"):
        Parameter("k", "rate", "1/yr", 1.0, 0.0, 10.0, scale="log")
    with pytest.raises(ParameterError, match="'k'.*unknown role 'learned'"):
        Parameter("k", "rate", "1/yr", 1.0, 0.0, 10.0, role="learned")
    with pytest.raises(ParameterError, match="'k'.*unknown scale"):
        Parameter("k", "rate", "1/yr", 1.0, 0.0, 10.0, scale="sqrt")
    with pytest.raises(ParameterError, match="'k'.*fixed value 20 lies outside"):
        Parameter("k", "rate", "1/yr", 1.0, 0.0, 10.0, value=20.0)


def test_roles_can_change_and_bad_names_are_named():
    ps = get_model("respiration").parameters()
    assert ps.roles == {"rb": "neural", "q10": "global", "t_ref": "fixed"}
    ps.set_role("q10", "neural")
    assert ps["q10"].role == "neural"
    ps.set_roles("all_global")
    assert ps.roles["rb"] == "global"
    ps.set_roles('{"rb": "fixed"}')
    assert ps["rb"].role == "fixed"
    with pytest.raises(ParameterError, match="unknown parameter 'qten'"):
        ps.set_roles({"qten": "neural"})
    with pytest.raises(ParameterError, match="parameter 'q10' has unknown role 'nn'"):
        ps.set_roles({"q10": "nn"})
    with pytest.raises(ParameterError, match="unknown preset 'five'"):
        ps.set_roles("five")
    with pytest.raises(ParameterError, match="invalid JSON"):
        ps.set_roles("{q10: neural}")


def test_update_validates_and_keeps_old_value_on_error():
    ps = get_model("respiration").parameters()
    ps.update("q10", lower=1.2, upper=3.0)
    assert (ps["q10"].lower, ps["q10"].upper) == (1.2, 3.0)
    with pytest.raises(ParameterError, match="'q10'.*lower bound 3 must be below upper bound 2"):
        ps.update("q10", lower=3.0, upper=2.0)
    assert ps["q10"].lower == 1.2
    with pytest.raises(ParameterError, match="duplicate|declared twice"):
        ParameterSet([Parameter("a", "", "-", 1, 0, 2), Parameter("a", "", "-", 1, 0, 2)])


@pytest.mark.parametrize("scale,lo,hi", [("linear", -2.0, 3.0), ("log", 0.01, 1000.0)])
def test_scaling_maps_unit_interval_onto_bounds(scale, lo, hi):
    p = Parameter("x", "", "-", 1.0, lo, hi, scale=scale)
    s = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    v = p.from_unit(s)
    assert v[0].item() == pytest.approx(lo) and v[2].item() == pytest.approx(hi)
    assert p.to_unit(float(v[1])) == pytest.approx(0.5)
    if scale == "log":
        assert v[1].item() == pytest.approx((lo * hi) ** 0.5)
