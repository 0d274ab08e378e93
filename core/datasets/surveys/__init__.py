"""Files as surveys and networks publish them, turned into a table and its column map that
hybridlab trains on: LUCAS topsoil and its companion files (``hybridlab data lucas``), eddy-covariance
flux files (``data fluxnet``) and retention tables (``data retention``). Each is a ``survey`` source in
the data registry; the modules without ``DATA`` are their shared reading, number and range checks."""
from core.datasets.surveys.lucas import Assembled, LucasOptions, assemble_lucas
from core.datasets.surveys.reading import ReadOptions
from core.datasets.surveys.tables import BELOW_DETECTION

__all__ = ["Assembled", "BELOW_DETECTION", "LucasOptions", "ReadOptions", "assemble_lucas"]
