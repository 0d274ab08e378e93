"""hybridlab dashboard: ``panel serve app/app.py`` (or ``hybridlab serve``). The page is built
by :func:`app.dashboard.create`, one per browser session."""
import sys
from pathlib import Path

# `panel serve app/app.py` puts app/ first on sys.path, where `app` would be this file; the
# repository root first makes `app` the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import panel as pn  # noqa: E402

from app.ui.page import EXTENSIONS, create  # noqa: E402

pn.extension(*EXTENSIONS, notifications=False)
create().servable(title="hybridlab")
