"""Maps (lon/lat) of every neural parameter per site, where the data have coordinates."""
from __future__ import annotations

import holoviews as hv
import pandas as pd

from core.datasets import coordinate_columns

from app.ui.views.base import View, empty, register


@register
class ParameterMaps(View):
    offer = "parameters"
    depends = ("snapshot", "data", "rows")
    title = "Maps"
    columns = 2
    order = 30

    def render(self, state):
        neural = [r.pname for r in state.rows if r.role == "neural"]
        if state.snapshot is None or state.data is None or not neural:
            return empty("maps of neural parameters appear during training" if neural else "no neural parameters")
        frame = state.data.frame
        found = coordinate_columns(frame.columns)
        if found is None:
            return empty("these data have no longitude/latitude columns (lon/lat, longitude/latitude or "
                         "th_long/th_lat)")
        lon, lat = found
        plots = []
        for name in neural:
            table = pd.DataFrame({"lon": frame[lon].to_numpy(), "lat": frame[lat].to_numpy(),
                                  name: state.snapshot.parameters[name].to_numpy()})
            plots.append(hv.Points(table, ["lon", "lat"], name).opts(
                color=name, cmap="viridis", colorbar=True, size=2, title=f"{name} per site", width=360, height=300,
                tools=["hover"]))
        return plots
