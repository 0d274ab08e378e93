"""The report's validation KGE on real LUCAS data (``docs/science.md``, "The report's comparison").

A reference column beside the project's own results, never a target: the numbers come from a
different (real) data set and a random 80/20 split by site.
"""
from core.formatting import number

#: configuration -> target -> validation KGE; None where the report gives "< 0"
VALIDATION_KGE = {
    "neural_network": {"soc": 0.60, "moc": 0.30, "poc": 0.18, "mbc": 0.25},
    "all_global": {"soc": 0.46, "moc": 0.12, "poc": None, "mbc": None},
    "five_neural": {"soc": 0.50, "moc": 0.27, "poc": 0.30, "mbc": 0.21},
    "all_neural": {"soc": 0.53, "moc": 0.23, "poc": 0.27, "mbc": 0.22},
}
#: train KGE where the report gives it
TRAIN_KGE = {"neural_network": {"soc": 0.74, "mbc": 0.89}}


def fmt(config: str, target: str) -> str:
    v = VALIDATION_KGE.get(config, {}).get(target, "missing")
    if v == "missing":
        return "–"
    return "< 0" if v is None else number(v, 2)
