"""The hybridlab dashboard (Panel): set-up and training state (``setup``, ``session``, ``runs``,
``limits``), widgets (``sidebar``, ``tabs``, ``live``), registered views (``views/``), the page
(``dashboard``) and the served script (``app.py``). Only the public API of ``core`` is used."""
