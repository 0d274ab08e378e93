"""``rf``: a random forest (scikit-learn's RandomForestRegressor) on the hybrid's predictors and
forcing, fitted on its training rows of each seed and fold (settings: :mod:`.forest`)."""
from core.baselines.forest import fit_rf
from core.baselines.spec import BaselineSpec, applies_anywhere

BASELINE = BaselineSpec(
    name="rf", description="random forest (scikit-learn) on the same predictors and forcing",
    applies=applies_anywhere, fit=fit_rf, reference="scikit-learn RandomForestRegressor; Breiman 2001")
