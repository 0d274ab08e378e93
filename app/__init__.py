"""The hybridlab dashboard (Panel): set-up and training state (``setup``, ``session``, ``runs``,
``limits``, ``pool``), widgets (``sidebar``, ``tabs``, ``live``), registered views (``views/``), the
page (``page``) and the served script (``app.py``). Only the public API of ``core`` is used.

In a notebook: ``from app import dashboard; dashboard()``.
"""


def dashboard():
    """The full dashboard in a notebook cell (JupyterLab, classic Notebook, VS Code).

    Loads Panel's resources inline, so it works offline, and trains in a background thread of the
    kernel (set ``HYBRIDLAB_WORKERS`` or ``HYBRIDLAB_SCHEDULER`` to train on Dask instead). The
    returned layout is displayed by the cell; the views update while the kernel is idle.
    """
    import panel as pn

    from app.ui.page import EXTENSIONS, create

    pn.extension(*EXTENSIONS, inline=True, notifications=False)
    return create()
