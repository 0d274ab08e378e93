"""The hybridlab dashboard (Panel). State lives in ``state.py``, views in ``views.py``, the page in
``app.py``; only the public API of ``core`` is used."""
