"""A page's state, as ``param.Parameterized`` objects with no widgets (no panel import): the set-up
form (``setup``, ``uploads``), a session's training and ensemble (``session``), an ensemble's twin
experiments (``twins``), its role search (``role_search``), the runs it kept (``runs``) and the
inbox that the pool's threads post typed news into (``inbox``). Views are functions of these; callbacks only call their methods."""
