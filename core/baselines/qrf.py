"""``qrf``: a quantile regression forest (the ``quantile-forest`` package): the median as its
prediction and its 5 % and 95 % quantiles as the 90 % interval that digital soil mapping reports,
scored like the hybrid's intervals (coverage, width, CRPS; :mod:`.scoring`)."""
from core.baselines.forest import fit_qrf
from core.baselines.spec import BaselineSpec, applies_anywhere

BASELINE = BaselineSpec(
    name="qrf", description="quantile regression forest: median and 90 % interval from its quantiles",
    applies=applies_anywhere, fit=fit_qrf, reference="quantile-forest RandomForestQuantileRegressor; Meinshausen 2006")
