"""Files as soil surveys publish them, turned into tables hybridlab trains on: LUCAS topsoil and
its companion files (:func:`assemble_lucas`, ``hybridlab data lucas``)."""
from core.datasets.surveys.lucas import Assembled, LucasOptions, assemble_lucas
from core.datasets.surveys.reading import ReadOptions
from core.datasets.surveys.tables import BELOW_DETECTION

__all__ = ["Assembled", "BELOW_DETECTION", "LucasOptions", "ReadOptions", "assemble_lucas"]
