"""One row of the set-up form's parameter table (``param.Parameterized``, no widgets)."""
from __future__ import annotations

import param

import core


class ParameterRow(param.Parameterized):
    """One mechanistic parameter in the table: role toggle, bounds, fixed value, validation message."""

    pname = param.String(doc="parameter name")
    description = param.String()
    unit = param.String()
    scale = param.String()
    default = param.Number()
    role = param.Selector(default="global", objects=list(core.ROLES))
    lower = param.Number()
    upper = param.Number()
    value = param.Number(doc="value when fixed")
    allowed_roles = param.List(default=list(core.ROLES))
    choices = param.Parameter(default=None)
    error = param.String(default="", doc="why the row is invalid; empty when valid")
    agreement = param.String(default="", doc="the last ensemble's verdict, e.g. 'identified (0.93)'; empty if none")
    reason = param.String(default="", doc="one line on where the verdict comes from, e.g. 'recovered r 0.31 in 4 twins'")

    @classmethod
    def from_parameter(cls, p: core.Parameter) -> "ParameterRow":
        return cls(pname=p.name, description=p.description, unit=p.unit, scale=p.scale, default=p.default,
                   role=p.role, lower=p.lower, upper=p.upper, value=p.fixed_value,
                   allowed_roles=list(p.allowed_roles), choices=p.choices)

    def to_parameter(self) -> core.Parameter:
        """The core Parameter for this row; raises ParameterError when the row is invalid."""
        default = min(max(self.default, self.lower), self.upper) if self.lower < self.upper else self.default
        return core.Parameter(self.pname, self.description, self.unit, default, self.lower, self.upper,
                              scale=self.scale, role=self.role,
                              value=self.value if self.role == "fixed" else None,
                              allowed_roles=tuple(self.allowed_roles),
                              choices=tuple(self.choices) if self.choices else None)

    @param.depends("role", "lower", "upper", "value", watch=True, on_init=True)
    def validate(self) -> str:
        try:
            self.to_parameter()
            self.error = ""
        except core.ParameterError as e:
            self.error = str(e)
        return self.error
