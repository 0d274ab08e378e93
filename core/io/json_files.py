"""JSON as hybridlab writes it: non-finite floats become null, so every file is valid JSON."""
from __future__ import annotations

import json
import math
from pathlib import Path


def json_safe(obj):
    """The object with non-finite floats replaced by None, so that it is valid JSON.

    Parameters
    ----------
    obj : dict, list, tuple, float or any JSON value
        Nested containers are walked; other values pass unchanged.

    Returns
    -------
    object
        The same structure, with NaN and infinities as None (tuples become lists).
    """
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: str | Path, obj) -> Path:
    """Write ``obj`` (through :func:`json_safe`) to ``path``, indented.

    Parameters
    ----------
    path : str or Path
        The file to write.
    obj : dict or list
        Any JSON value; NaN and infinities become null.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.write_text(json.dumps(json_safe(obj), indent=2))
    return path
