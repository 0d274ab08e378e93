"""Checks of plain settings, in the manner of scikit-learn's ``check_scalar``: each raises a
:class:`~core.errors.HybridlabError` that names the setting, the value and what is allowed."""
from __future__ import annotations

import math
from typing import Iterable

from core.errors import HybridlabError
from core.formatting import short_repr


def check_choice(value, choices: Iterable[str], what: str) -> str:
    """value if it is one of choices, else an error listing them."""
    choices = list(choices)
    if value not in choices:
        raise HybridlabError(f"unknown {what} {short_repr(value)}; use one of {', '.join(map(str, choices))}")
    return value


def check_integer(value, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    """value as an int in [minimum, maximum]; bools and non-integral numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise HybridlabError(f"{what} must be an integer, got {short_repr(value)}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise HybridlabError(f"{what} must be at least {minimum}{upper}, got {value}")
    return value


def check_number(value, what: str, low: float | None = None, high: float | None = None,
                 include_low: bool = True, include_high: bool = True) -> float:
    """value as a finite float within the given bounds (inclusive unless told otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HybridlabError(f"{what} must be a finite number, got {short_repr(value)}")
    value = float(value)
    below = low is not None and (value < low if include_low else value <= low)
    above = high is not None and (value > high if include_high else value >= high)
    if below or above:
        left = "[" if include_low else "("
        right = "]" if include_high else ")"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise HybridlabError(f"{what} must be in {left}{lo}, {hi}{right}, got {value:g}")
    return value


def check_keys(given: Iterable[str], allowed: Iterable[str], where: str) -> None:
    """Refuse keys of a settings block that are not among the allowed ones."""
    allowed = list(allowed)
    unknown = [k for k in given if k not in allowed]
    if unknown:
        raise HybridlabError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(allowed)}")


def parse_hidden(text) -> tuple[int, ...]:
    """Hidden layer sizes from ``"256,128"`` or a sequence of ints."""
    if isinstance(text, str):
        try:
            return tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise HybridlabError(f"hidden layer sizes must be comma-separated integers, got {short_repr(text)}") from None
    try:
        return tuple(check_integer(v, "hidden layer size") for v in text)
    except TypeError:
        raise HybridlabError(f"hidden layer sizes must be a list of integers, got {short_repr(text)}") from None


def settings_from_dict(cls, values, where: str):
    """A settings dataclass from a plain mapping; unknown keys and wrong types are named."""
    from dataclasses import fields

    if values is None:
        return cls()
    if not isinstance(values, dict):
        raise HybridlabError(f"{where} must be a mapping of settings, got {type(values).__name__}")
    check_keys(values, [f.name for f in fields(cls)], where)
    try:
        return cls(**values)
    except TypeError as e:
        raise HybridlabError(f"{where}: {e}") from None
