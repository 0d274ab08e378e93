"""Views of a training or finished run, one small file each, registered by type.

A view is a :class:`~app.ui.views.base.View` subclass in a module of this package, decorated with
:func:`~app.ui.views.base.register`. It says which tab it belongs to, which kind of model offer it
needs (``ModelSpec.views()``: ``parameters``, ``tracked``, ``saturation``, ``response_curve``,
``derived``; None for every model) and which fields of :class:`~app.ui.views.base.ViewState` it
draws from. The dashboard shows, in each tab, the views whose offer the chosen model makes;
nothing in the app tests a model's name.
"""
from __future__ import annotations

import importlib
import pkgutil

from app.ui.views.base import REGISTRY, Message, View, ViewState, register


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def views_for(tab: str, spec) -> list[View]:
    """Instances of the registered views of a tab that apply to a model (by its spec)."""
    _discover()
    chosen = [cls(spec) for cls in REGISTRY if cls.tab == tab and cls.applies(spec)]
    return sorted(chosen, key=lambda view: view.order)


__all__ = ["REGISTRY", "Message", "View", "ViewState", "register", "views_for"]
