"""The SOC model's forcing made from what a SOC-fraction study reports: NPP from climate (the Miami
model) and the litter input and soil mass of the sampled layer.

The SOC model (``core.models.soc``) takes ``npp`` in g C m-2 yr-1 and divides ``in_frac * npp`` by
``soil_mass``, the kg of soil per m2 of 0-20 cm (default 260). Three set-up faults hide there, and
each is converted here with a stated rule, never silently:

- **NPP in carbon, not dry matter.** The Miami model (Lieth 1975) gives NPP in g dry matter
  m-2 yr-1: ``min(3000 / (1 + exp(1.315 - 0.119 MAT)), 3000 (1 - exp(-0.000664 MAP)))``. It is
  multiplied by the carbon share of dry matter (``carbon_fraction``, default 0.5).
- **Soil mass of the layer.** A layer from ``top`` to ``bottom`` cm with bulk density ``bd``
  g cm-3 holds ``10 * (bottom - top) * bd`` kg m-2 (260 for 0-20 cm at 1.3).
- **Input to the layer.** ``in_frac`` is the share of NPP entering 0-20 cm. Below-ground inputs
  follow the root profile of Jackson et al. (1996): the share above depth d (cm) is
  ``1 - beta ** d``; with ``beta = 0.966`` the share of 0-20 cm is 0.50, which is ``in_frac``'s
  default. A layer receives ``(beta**top - beta**bottom) / (1 - beta**20)`` times the input of
  0-20 cm, so ``npp`` is scaled by that ratio and ``in_frac`` keeps its meaning.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: carbon per dry matter of plant tissue (g C per g)
CARBON_FRACTION = 0.5
#: the root-profile parameter of Jackson et al. (1996) whose 0-20 cm share is in_frac's 0.5
ROOT_BETA = 0.966
#: bulk density (g cm-3) where a row has none: 260 kg m-2 for 0-20 cm, the model's default soil mass
DEFAULT_BD = 1.3
#: the layer the model's in_frac and default soil mass refer to (cm)
MODEL_LAYER = (0.0, 20.0)


def miami_npp(mat: pd.Series, map_mm: pd.Series, carbon_fraction: float = CARBON_FRACTION) -> pd.Series:
    """Net primary production (g C m-2 yr-1) from mean annual temperature (degC) and
    precipitation (mm yr-1) by the Miami model (Lieth 1975), the lower of its temperature and
    its precipitation limit, times ``carbon_fraction`` (g C per g dry matter).

    Parameters
    ----------
    mat, map_mm : pandas.Series
        Mean annual temperature (degC) and precipitation (mm yr-1); missing values stay missing.
    carbon_fraction : float
        Carbon share of dry matter (1 keeps dry matter).

    Returns
    -------
    pandas.Series
        NPP in g C m-2 yr-1 (g dry matter where ``carbon_fraction`` is 1).
    """
    by_temperature = 3000.0 / (1.0 + np.exp(1.315 - 0.119 * mat))
    by_rain = 3000.0 * (1.0 - np.exp(-0.000664 * map_mm))
    return np.minimum(by_temperature, by_rain) * carbon_fraction


def layer_input_share(top: pd.Series, bottom: pd.Series, beta: float = ROOT_BETA) -> pd.Series:
    """The litter input a layer receives relative to 0-20 cm under the root profile
    ``1 - beta ** depth`` (Jackson et al. 1996): 1 for 0-20 cm, below 1 for deeper layers."""
    low, high = MODEL_LAYER
    return (beta ** top - beta ** bottom) / (beta ** low - beta ** high)


def layer_soil_mass(top: pd.Series, bottom: pd.Series, bd: pd.Series) -> pd.Series:
    """kg of soil per m2 in a layer from ``top`` to ``bottom`` cm at bulk density ``bd`` g cm-3."""
    return 10.0 * (bottom - top) * bd


__all__ = ["CARBON_FRACTION", "DEFAULT_BD", "MODEL_LAYER", "ROOT_BETA", "layer_input_share", "layer_soil_mass",
           "miami_npp"]
