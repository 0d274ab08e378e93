"""Which parameters should be neural: a greedy forward search over roles (:mod:`.search`), run on
the sweep executor, with the identifiability of what it made neural (:mod:`core.identify`)."""
from core.roles.report import FIGURE_FILE, MARKDOWN_FILE, PATH_FILE, identifiability_text, stop_reason
from core.roles.search import START, RoleSearch, RoleStep, configuration_label, neural_in, run_role_search

__all__ = ["RoleSearch", "RoleStep", "run_role_search", "configuration_label", "neural_in", "identifiability_text",
           "stop_reason", "START", "PATH_FILE", "MARKDOWN_FILE", "FIGURE_FILE"]
