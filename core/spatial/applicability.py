"""The dissimilarity index (DI) and the area of applicability (AOA) of a trained run, after Meyer &
Pebesma (2021, Methods Ecol. Evol. 12, 1620), as CAST's ``trainDI`` and ``aoa`` define them.

The predictors are standardised with the training rows' mean and sd and each column is multiplied
by its importance weight (>= 0, the largest 1). In that space:

- d̄ is the mean Euclidean distance between two training rows (all pairs; over a fixed-seed
  sample of :data:`MEAN_DISTANCE_ROWS` rows when there are more);
- a training row's DI is the distance to its nearest training row of ANOTHER group (fold, site or
  spatial block: the rows a cross-validation would have held out with it), divided by d̄;
- the AOA threshold is the upper whisker of the training DI: the largest training DI not above
  Q75 + 1.5 IQR (a boxplot's whisker, as CAST takes ``boxplot.stats()$stats[5]``);
- a new row's DI is the distance to its nearest training row divided by d̄, and it lies inside the
  AOA when its DI is at most the threshold.

Nearest neighbours come from scikit-learn (:class:`sklearn.neighbors.NearestNeighbors`); new rows
are queried in blocks of :data:`BLOCK_ROWS`, so a grid of millions of pixels needs memory for one
block only. A row with a missing predictor has DI NaN and lies outside.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import DataError, HybridlabError

#: the file of a run folder that holds it (covered by the folder's checksum)
APPLICABILITY_FILE = "applicability.npz"
#: new rows queried at once (each block needs about rows x 8 bytes x predictors)
BLOCK_ROWS = 200_000
#: above this many training rows, d̄ is the mean over the pairs of a fixed-seed sample of them
MEAN_DISTANCE_ROWS = 4000
#: groups up to this size are excluded through one k-nearest-neighbour query; larger ones get a tree each
NEIGHBOUR_GROUP = 64
#: the whisker's reach in interquartile ranges above the upper quartile
WHISKER = 1.5
_ARRAYS = ("mean", "sd", "weights", "train", "train_di")


@dataclass
class Applicability:
    """What a run keeps to compute the DI of new rows (:func:`fit_applicability` builds it).

    Parameters
    ----------
    predictors : list of str
        The predictor names, in the column order of every matrix.
    mean, sd : numpy.ndarray, shape (p,)
        The training rows' mean and sd of each predictor (predictor units; sd 1 where it is 0).
    weights : numpy.ndarray, shape (p,)
        Importance weight of each predictor, >= 0, the largest 1.
    train : numpy.ndarray, shape (n_train, p)
        The training rows in the weighted standardised space (dimensionless).
    train_di : numpy.ndarray, shape (n_train,)
        Each training row's cross-validated DI (dimensionless).
    mean_distance : float
        d̄, the mean distance between training rows in that space.
    threshold : float
        The AOA threshold on the DI.
    importance : str
        Where the weights came from (e.g. ``permutation of validation KGE``).
    """

    predictors: list[str]
    mean: np.ndarray
    sd: np.ndarray
    weights: np.ndarray
    train: np.ndarray
    train_di: np.ndarray
    mean_distance: float
    threshold: float
    importance: str
    _index: object = field(default=None, repr=False, compare=False)

    def space(self, x: np.ndarray) -> np.ndarray:
        """Rows x (n, p) in predictor units -> (n, p) in the weighted standardised space."""
        x = np.asarray(x, dtype=np.float64)
        return self._space(x, np.ones(len(x), dtype=bool), np.ones(len(self.weights), dtype=bool))

    def _space(self, x: np.ndarray, rows: np.ndarray, used: np.ndarray) -> np.ndarray:
        """Rows ``rows`` and columns ``used`` of :meth:`space`: one new array, scaled in place."""
        z = x[np.ix_(rows, used)]
        z -= self.mean[used]
        z /= self.sd[used]
        z *= self.weights[used]
        return z

    def _neighbours(self):
        """The nearest-neighbour index of the training rows, on the predictors of weight > 0 only
        (the others add nothing to a distance)."""
        if self._index is None:
            from sklearn.neighbors import NearestNeighbors

            self._index = NearestNeighbors(n_neighbors=1).fit(self.train[:, self.weights > 0])
        return self._index

    def dissimilarity(self, x: np.ndarray, block: int = BLOCK_ROWS) -> np.ndarray:
        """The DI of new rows.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, p)
            Predictor values in the order of :attr:`predictors` (predictor units).
        block : int
            Rows queried at once.

        Returns
        -------
        numpy.ndarray, shape (n,)
            Distance to the nearest training row / d̄ (dimensionless); NaN where a predictor is missing.
        """
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if x.shape[1] != len(self.predictors):
            raise DataError(f"the DI needs {len(self.predictors)} predictor columns "
                            f"({', '.join(self.predictors[:5])}...), got {x.shape[1]}")
        di, used = np.full(len(x), np.nan), self.weights > 0
        for start in range(0, len(x), block):
            part = x[start:start + block]
            known = np.isfinite(part).all(1)
            if known.any():
                distance, _ = self._neighbours().kneighbors(self._space(part, known, used))
                di[start:start + block][known] = distance[:, 0] / self.mean_distance
        return di

    def inside(self, di: np.ndarray) -> np.ndarray:
        """(n,) bool: True where a DI lies within the AOA (NaN: outside)."""
        return np.asarray(di) <= self.threshold

    def summary(self) -> dict:
        """What metrics.json reports of it: threshold, d̄, weights per predictor and their source."""
        return {"threshold": float(self.threshold), "mean_distance": float(self.mean_distance),
                "training_rows": int(len(self.train)), "importance": self.importance,
                "weights": {name: float(w) for name, w in zip(self.predictors, self.weights)}}

    def save(self, path: str | Path) -> None:
        """Write it as an uncompressed ``.npz`` (no pickled objects)."""
        with open(path, "wb") as f:
            np.savez(f, predictors=np.array(self.predictors, dtype=str), importance=np.array(self.importance),
                     scalars=np.array([self.mean_distance, self.threshold]),
                     **{name: getattr(self, name) for name in _ARRAYS})

    @classmethod
    def load(cls, path: str | Path) -> "Applicability":
        """Read what :meth:`save` wrote, or a one-line HybridlabError naming the file."""
        try:
            with np.load(path, allow_pickle=False) as f:
                values = {name: f[name] for name in ("predictors", "importance", "scalars", *_ARRAYS)}
        except (OSError, ValueError, KeyError) as e:
            raise HybridlabError(f"{path}: not an applicability file written by hybridlab ({type(e).__name__}); "
                                 f"train the run again") from None
        return _checked(path, values)


def _checked(path, values: dict) -> Applicability:
    """The loaded arrays as an :class:`Applicability`, their shapes and values checked."""
    p = len(values["predictors"])
    train = values["train"]
    shapes_ok = (values["scalars"].shape == (2,) and train.ndim == 2 and train.shape[1] == p and len(train) >= 2
                 and values["train_di"].shape == (len(train),)
                 and all(values[name].shape == (p,) for name in ("mean", "sd", "weights")))
    numbers = [values[name] for name in ("scalars", *_ARRAYS)]
    if not shapes_ok or not all(np.issubdtype(v.dtype, np.floating) and np.isfinite(v).all() for v in numbers):
        raise HybridlabError(f"{path}: its arrays do not describe one area of applicability (shapes or values "
                             f"differ); train the run again")
    mean_distance, threshold = (float(v) for v in values["scalars"])
    if not mean_distance > 0 or (values["sd"] <= 0).any() or (values["weights"] < 0).any():
        raise HybridlabError(f"{path}: mean distance and sd must be > 0 and weights >= 0; train the run again")
    return Applicability([str(v) for v in values["predictors"]], values["mean"], values["sd"], values["weights"],
                         train, values["train_di"], mean_distance, threshold, str(values["importance"]))


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(0)
    sd = x.std(0)
    return mean, np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)


def normalised_weights(importance: np.ndarray) -> np.ndarray:
    """(p,) importances -> weights: negative and non-finite ones 0, the largest 1; all equal (1)
    when no importance is above 0 (the DI is then unweighted)."""
    w = np.where(np.isfinite(importance), np.asarray(importance, dtype=np.float64), 0.0).clip(min=0.0)
    return w / w.max() if w.max() > 0 else np.ones_like(w)


def mean_distance(z: np.ndarray, seed: int = 0, rows: int = MEAN_DISTANCE_ROWS) -> float:
    """d̄: the mean distance over all pairs of distinct rows of z (n, p); over a fixed-seed sample
    of ``rows`` rows when n is larger (the pairs then number rows (rows - 1) / 2)."""
    from sklearn.metrics import pairwise_distances_chunked

    if len(z) > rows:
        z = z[np.random.default_rng(seed).choice(len(z), rows, replace=False)]
    total = sum(float(chunk.sum()) for chunk in pairwise_distances_chunked(z, working_memory=64))
    return total / (len(z) * (len(z) - 1))


def cross_validated_distance(z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(n,) distance from each row of z (n, p) to its nearest row of another group."""
    from sklearn.neighbors import NearestNeighbors

    _, codes, sizes = np.unique(np.asarray(groups), return_inverse=True, return_counts=True)
    codes = codes.reshape(-1)
    distance = np.full(len(z), np.inf)
    small = sizes[codes] <= NEIGHBOUR_GROUP
    if small.any():
        # a row's own group holds at most k - 1 of its k nearest rows (itself included)
        k = min(len(z), int(sizes[sizes <= NEIGHBOUR_GROUP].max()) + 1)
        found, index = NearestNeighbors(n_neighbors=k).fit(z).kneighbors(z[small])
        other = codes[index] != codes[small][:, None]
        distance[small] = found[np.arange(len(found)), other.argmax(1)]
    for group in np.flatnonzero(sizes > NEIGHBOUR_GROUP):
        own = codes == group
        found, _ = NearestNeighbors(n_neighbors=1).fit(z[~own]).kneighbors(z[own])
        distance[own] = found[:, 0]
    return distance


def upper_whisker(values: np.ndarray) -> float:
    """The largest value not above Q75 + 1.5 IQR (quartiles by linear interpolation)."""
    q25, q75 = np.percentile(values, [25, 75])
    return float(values[values <= q75 + WHISKER * (q75 - q25)].max())


def fit_applicability(x: np.ndarray, groups: np.ndarray, importance: np.ndarray, predictors: list[str],
                      source: str = "given", seed: int = 0) -> Applicability:
    """The DI's reference and the AOA threshold from a run's training rows.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_train, p)
        The training rows' predictors (predictor units); rows with a missing value are left out.
    groups : numpy.ndarray, shape (n_train,)
        Each row's fold, site or block: a row's DI is measured to rows of other groups. With one
        group only, to every other row (leave one row out).
    importance : numpy.ndarray, shape (p,)
        Importance of each predictor (any scale; see :func:`normalised_weights`).
    predictors : list of str
        The predictor names.
    source : str
        Where ``importance`` came from (kept in the file and in metrics.json).
    seed : int
        Seed of the sample d̄ is measured on when there are more than :data:`MEAN_DISTANCE_ROWS` rows.

    Returns
    -------
    Applicability
    """
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    groups = np.asarray(groups)
    if x.shape[1] != len(predictors) or len(groups) != len(x) or np.shape(importance) != (len(predictors),):
        raise HybridlabError(f"applicability: {len(predictors)} predictors, but x is {x.shape}, groups "
                             f"{len(groups)} and importance {np.shape(importance)}")
    known = np.isfinite(x).all(1)
    x, groups = x[known], groups[known]
    if len(x) < 2:
        raise DataError(f"applicability: {len(x)} training row(s) have every predictor; it needs at least 2")
    if len(np.unique(groups)) < 2:
        groups = np.arange(len(x))
    mean, sd = _standardise(x)
    weights = normalised_weights(np.asarray(importance))
    z = (x - mean) / sd * weights
    d_bar = mean_distance(z, seed)
    if not d_bar > 0:
        raise DataError("applicability: every training row has the same weighted predictors; no DI can be measured")
    train_di = cross_validated_distance(z, groups) / d_bar
    return Applicability(list(predictors), mean, sd, weights, z, train_di, d_bar, upper_whisker(train_di), source)


def add_applicability(table, frame, applicability: Applicability | None):
    """``table`` (pandas.DataFrame, one row per row of ``frame``) with ``di`` (dimensionless) and
    ``aoa`` (True inside) from ``frame``'s predictor columns; unchanged when ``applicability`` is None."""
    if applicability is None:
        return table
    di = applicability.dissimilarity(frame[applicability.predictors].to_numpy(dtype=np.float64))
    table["di"] = di
    table["aoa"] = applicability.inside(di)
    return table


__all__ = ["APPLICABILITY_FILE", "Applicability", "add_applicability", "cross_validated_distance", "fit_applicability", "mean_distance",
           "normalised_weights", "upper_whisker"]
