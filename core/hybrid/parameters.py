"""Declarative mechanistic parameters and their roles.

Each parameter of a mechanistic model has a *role*:

- ``global``: one learned value shared by all samples,
- ``neural``: predicted per sample by the network from covariates,
- ``fixed``: a constant (literature value, earlier calibration).

Learned parameters (global and neural) pass through a sigmoid ``s`` in [0, 1] that is scaled into
their bounds, linearly (``lo + s (hi - lo)``) or on a log scale
(``exp(log lo + s (log hi - log lo))``) for ranges spanning orders of magnitude.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import torch

from core.errors import ParameterError
from core.formatting import short_repr

ROLES = ("global", "neural", "fixed")
SCALES = ("linear", "log")


@dataclass
class Parameter:
    """One mechanistic parameter.

    Parameters
    ----------
    name, description, unit : str
        Its name in the model function, its meaning and its unit.
    default : float
        The value used when fixed without a value, and a global parameter's start.
    lower, upper : float
        Bounds (a neural parameter is a scaled sigmoid between them).
    scale : {"linear", "log"}
        The scale the bounds are mapped on.
    role : {"global", "neural", "fixed"}
    value : float, optional
        The fixed value (None: ``default``).
    allowed_roles : tuple of str
        Roles the parameter may take.
    choices : tuple of float, optional
        Values a fixed parameter may take.
    """

    name: str
    description: str
    unit: str
    default: float
    lower: float
    upper: float
    scale: str = "linear"
    role: str = "global"
    #: value used when the role is ``fixed`` (defaults to ``default``)
    value: float | None = None
    #: roles this parameter may take (e.g. only ``fixed`` for a switch like an exponent)
    allowed_roles: tuple[str, ...] = ROLES
    #: the only values a fixed parameter may take, if restricted (e.g. (1, 2))
    choices: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ParameterError` naming this parameter if the declaration is inconsistent."""
        n = self.name
        if not n or not n.isidentifier():
            raise ParameterError(f"parameter name {short_repr(n)} must be a Python identifier")
        for what in ("default", "lower", "upper"):
            v = getattr(self, what)
            if not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ParameterError(f"parameter {short_repr(n)}: {what} must be a finite number, got {short_repr(v)}")
        if self.role not in ROLES:
            raise ParameterError(f"parameter {short_repr(n)}: unknown role {short_repr(self.role)}; use one of {', '.join(ROLES)}")
        if self.scale not in SCALES:
            raise ParameterError(f"parameter {short_repr(n)}: unknown scale {short_repr(self.scale)}; use 'linear' or 'log'")
        if not self.lower < self.upper:
            raise ParameterError(
                f"parameter {short_repr(n)}: lower bound {self.lower:g} must be below upper bound {self.upper:g}")
        if self.scale == "log" and self.lower <= 0:
            raise ParameterError(f"parameter {short_repr(n)}: log scale needs a lower bound > 0, got {self.lower:g}")
        if not self.lower <= self.default <= self.upper:
            raise ParameterError(
                f"parameter {short_repr(n)}: default {self.default:g} lies outside its bounds "
                f"[{self.lower:g}, {self.upper:g}]")
        if self.role not in self.allowed_roles:
            raise ParameterError(f"parameter {short_repr(n)} can only be {' or '.join(self.allowed_roles)}, not {short_repr(self.role)}")
        if self.choices is not None and self.fixed_value not in self.choices:
            raise ParameterError(f"parameter {short_repr(n)} must be one of {', '.join(f'{c:g}' for c in self.choices)}, "
                                 f"got {self.fixed_value:g}")
        if self.value is not None:
            if not isinstance(self.value, (int, float)) or not math.isfinite(self.value):
                raise ParameterError(f"parameter {short_repr(n)}: fixed value must be a finite number, got {short_repr(self.value)}")
            if not self.lower <= self.value <= self.upper:
                raise ParameterError(
                    f"parameter {short_repr(n)}: fixed value {self.value:g} lies outside its bounds "
                    f"[{self.lower:g}, {self.upper:g}]")

    @property
    def fixed_value(self) -> float:
        return float(self.default if self.value is None else self.value)

    # -- sigmoid scaling -------------------------------------------------------------------
    def from_unit(self, s: torch.Tensor) -> torch.Tensor:
        """Map s in [0, 1] (any shape) into [lower, upper] on this parameter's scale."""
        if self.scale == "log":
            lo, hi = math.log(self.lower), math.log(self.upper)
            v = torch.exp(lo + s * (hi - lo))
        else:
            v = self.lower + s * (self.upper - self.lower)
        # float32 rounding can step just outside a bound (exp(log 0.1) < 0.1)
        return v.clamp(self.lower, self.upper)

    def to_unit(self, v: float) -> float:
        """Inverse of :meth:`from_unit` for one value."""
        if self.scale == "log":
            lo, hi = math.log(self.lower), math.log(self.upper)
            return (math.log(v) - lo) / (hi - lo)
        return (v - self.lower) / (self.upper - self.lower)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in
             ("name", "description", "unit", "default", "lower", "upper", "scale", "role", "value")}
        d["allowed_roles"] = list(self.allowed_roles)
        d["choices"] = None if self.choices is None else list(self.choices)
        return d


class ParameterSet:
    """An ordered collection of :class:`Parameter`, with role assignment by name.

    Parameters
    ----------
    parameters : iterable of Parameter
    presets : mapping, optional
        Preset name -> {parameter: role}.

    Examples
    --------
    >>> ps = ParameterSet([Parameter("q10", "temperature sensitivity", "-", 2.0, 1.0, 4.0)])
    >>> ps.set_roles({"q10": "fixed"}).roles
    {'q10': 'fixed'}
    """

    def __init__(self, parameters: Iterable[Parameter], presets: Mapping[str, Mapping[str, str]] | None = None):
        self._params: dict[str, Parameter] = {}
        for p in parameters:
            if p.name in self._params:
                raise ParameterError(f"parameter {short_repr(p.name)} is declared twice")
            self._params[p.name] = p
        self.presets: dict[str, dict[str, str]] = {k: dict(v) for k, v in (presets or {}).items()}
        for preset, roles in self.presets.items():
            self._check_roles(roles, f"preset {short_repr(preset)}")

    # -- access ----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._params[name]
        except KeyError:
            raise ParameterError(
                f"unknown parameter {short_repr(name)}; known: {', '.join(self._params)}") from None

    def __iter__(self):
        return iter(self._params.values())

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, name: str) -> bool:
        return name in self._params

    @property
    def names(self) -> list[str]:
        return list(self._params)

    @property
    def roles(self) -> dict[str, str]:
        return {p.name: p.role for p in self}

    def with_role(self, role: str) -> list[Parameter]:
        return [p for p in self if p.role == role]

    def copy(self) -> "ParameterSet":
        return copy.deepcopy(self)

    # -- changing roles and bounds ---------------------------------------------------------
    def _check_roles(self, roles: Mapping[str, str], where: str) -> None:
        for name, role in roles.items():
            if name not in self._params:
                raise ParameterError(
                    f"{where}: unknown parameter {short_repr(name)}; known: {', '.join(self._params)}")
            if role not in ROLES:
                raise ParameterError(
                    f"{where}: parameter {short_repr(name)} has unknown role {short_repr(role)}; use one of {', '.join(ROLES)}")

    def set_role(self, name: str, role: str) -> "ParameterSet":
        return self.set_roles({name: role})

    def set_roles(self, roles: Mapping[str, str] | str) -> "ParameterSet":
        """Assign roles in place from a mapping, a preset name or a JSON object string; returns self."""
        if isinstance(roles, str):
            roles = self.resolve_roles(roles)
        self._check_roles(roles, "roles")
        for name, role in roles.items():
            self.update(name, role=role)
        return self

    def resolve_roles(self, spec: str) -> dict[str, str]:
        """Turn a preset name or a JSON object (``{"q10": "neural"}``) into a role mapping."""
        spec = spec.strip()
        if spec in self.presets:
            return dict(self.presets[spec])
        if spec.startswith("{"):
            try:
                roles = json.loads(spec)
            except json.JSONDecodeError as e:
                raise ParameterError(f"roles: invalid JSON ({e.msg} at position {e.pos})") from None
            if not isinstance(roles, dict):
                raise ParameterError("roles: JSON must be an object mapping parameter names to roles")
            self._check_roles(roles, "roles")
            return roles
        known = ", ".join(self.presets) or "none"
        raise ParameterError(f"roles: unknown preset {short_repr(spec)} (presets: {known}); or give a JSON object")

    def update(self, name: str, **changes) -> "ParameterSet":
        """Change fields of one parameter (bounds, value, role, scale); validates, returns self."""
        p = self[name]
        trial = copy.copy(p)
        for k, v in changes.items():
            if k not in ("default", "lower", "upper", "scale", "role", "value"):
                raise ParameterError(f"parameter {short_repr(name)}: cannot change field {short_repr(k)}")
            setattr(trial, k, v)
        trial.validate()
        self._params[name] = trial
        return self

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> list[dict]:
        return [p.to_dict() for p in self]

    @classmethod
    def from_dict(cls, items: list[dict], presets=None) -> "ParameterSet":
        params = []
        for d in items:
            d = dict(d)
            d["allowed_roles"] = tuple(d.get("allowed_roles") or ROLES)
            d["choices"] = None if d.get("choices") is None else tuple(d["choices"])
            params.append(Parameter(**d))
        return cls(params, presets)

    def __repr__(self) -> str:
        return "ParameterSet(" + ", ".join(f"{p.name}={p.role}" for p in self) + ")"
