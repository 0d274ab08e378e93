"""Random forests on the hybrid's inputs: one forest per target, fitted on the training rows where
that target is observed, with the predictors and the forcing as features (what ``nn`` sees).

Settings (:data:`FOREST_SETTINGS`) follow R's randomForest for regression, the usual choice in
digital soil mapping: a third of the features tried at each split, leaves of at least 5 rows;
200 trees. ``rf`` predicts the forest's mean; ``qrf`` (Meinshausen 2006, the ``quantile-forest``
package) the conditional quantiles, its point prediction the median.
"""
from __future__ import annotations

import functools

import numpy as np

from core.errors import DataError, HybridlabError
from core.formatting import short_repr
from core.baselines.spec import BaselineRows

FOREST_SETTINGS = {"n_estimators": 200, "max_features": 1 / 3, "min_samples_leaf": 5}
#: probabilities of the quantiles qrf predicts for its predictive distribution (CRPS, intervals)
QUANTILE_GRID = tuple(round(p, 3) for p in np.linspace(0.01, 0.99, 99))


@functools.cache
def forest_jobs() -> int:
    """Threads for fitting: the cores this process may use (:mod:`core.compute.threads`)."""
    from core.compute.threads import choose

    return choose(1).threads


class ForestFit:
    """One fitted forest per target. ``make(seed)`` builds an unfitted scikit-learn estimator."""

    def __init__(self, rows: BaselineRows, make):
        self.rows, self.forests = rows, {}
        x = rows.features(rows.train)
        for target in rows.targets:
            y = rows.observed(target, rows.train)
            known = np.isfinite(y)
            if known.sum() < 2:
                raise DataError(f"target {short_repr(target)}: {int(known.sum())} observation(s) in the training rows; "
                                f"a forest needs at least 2")
            forest = make(rows.seed)
            forest.fit(x[known], y[known])
            forest.n_jobs = 1  # predicting in one process: quantile-forest's parallel prediction was 10x slower
            self.forests[target] = forest

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """target -> (n,) the forest's prediction on row positions ``rows``."""
        x = self.rows.features(rows)
        return {target: np.asarray(forest.predict(x), dtype=np.float64) for target, forest in self.forests.items()}


class QuantileForestFit(ForestFit):
    """Quantile forests: the median as the point prediction, quantiles for intervals and CRPS."""

    def predict(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """target -> (n,) the conditional median on ``rows``."""
        x = self.rows.features(rows)
        return {target: np.asarray(forest.predict(x, quantiles=0.5), dtype=np.float64).reshape(-1)
                for target, forest in self.forests.items()}

    def quantiles(self, rows: np.ndarray, probabilities) -> dict[str, np.ndarray]:
        """target -> (Q, n) conditional quantiles at the Q ``probabilities`` on ``rows``."""
        x = self.rows.features(rows)
        wanted = [float(p) for p in probabilities]
        return {target: np.asarray(forest.predict(x, quantiles=wanted), dtype=np.float64).reshape(len(x), -1).T
                for target, forest in self.forests.items()}


def fit_rf(rows: BaselineRows) -> ForestFit:
    """scikit-learn's RandomForestRegressor per target, seeded with the run's seed."""
    from sklearn.ensemble import RandomForestRegressor

    return ForestFit(rows, lambda seed: RandomForestRegressor(**FOREST_SETTINGS, random_state=seed,
                                                              n_jobs=forest_jobs()))


def fit_qrf(rows: BaselineRows) -> QuantileForestFit:
    """quantile_forest.RandomForestQuantileRegressor per target, seeded with the run's seed."""
    try:
        from quantile_forest import RandomForestQuantileRegressor
    except ImportError:
        raise HybridlabError("--baselines qrf needs the package quantile-forest (pip install quantile-forest)") from None
    return QuantileForestFit(rows, lambda seed: RandomForestQuantileRegressor(**FOREST_SETTINGS, random_state=seed,
                                                                              n_jobs=forest_jobs()))
