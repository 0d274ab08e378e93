"""Files as soil surveys publish them, turned into tables hybridlab trains on: LUCAS topsoil and
its companion files (:func:`assemble_lucas`, ``hybridlab data lucas``)."""
from core.ingest.lucas import Assembled, LucasOptions, assemble_lucas
from core.ingest.reading import ReadOptions
from core.ingest.tables import BELOW_DETECTION

__all__ = ["Assembled", "BELOW_DETECTION", "LucasOptions", "ReadOptions", "assemble_lucas"]
