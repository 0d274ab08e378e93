"""Which parameters should be neural: a greedy forward search over roles (:mod:`.search`), run on
the sweep executor, with the identifiability of what it made neural (:mod:`core.identify`)."""
from .search import PATH_FILE, RoleSearch, RoleStep, run_role_search

__all__ = ["RoleSearch", "RoleStep", "run_role_search", "PATH_FILE"]
