"""The programme by year on the overview map: one layer per year of the programme (off until
ticked in the layer control, so the year filter is the control's checkboxes), the compounds
filled in the year's colour, and the reserve in grey; with legend rows. Texts from the data
enter through :func:`spatial.text.html.esc`."""

from __future__ import annotations

import folium
import numpy as np

from spatial.analysis.result import RunResult
from spatial.core.messages import text
from spatial.outputs.html.overlays import outline_features, outline_layer, section
from spatial.text.html import fragment

#: one colour per programme year, early dark to late light (ColorBrewer YlGnBu, 7 classes)
YEAR_COLOURS = ("#0c2c84", "#225ea8", "#1d91c0", "#41b6c4", "#7fcdbb", "#c7e9b4", "#edf8b1")
RESERVE_COLOUR = "#969696"


def plan_layers(fmap: folium.Map, result: RunResult, lang: str, basemap: str) -> list[dict]:
    """Add the programme's layers to ``fmap``; return their legend entries (none without a
    programme, or when it is infeasible).

    Parameters
    ----------
    fmap : folium.Map
    result : RunResult
    lang : str
    basemap : str

    Returns
    -------
    list of dict
        ``ref`` (the layer) and ``html`` (its legend row) per layer.
    """
    if result.plan is None or result.summary.get("plan", {}).get("status") == "infeasible":
        return []
    plan = result.plan.plan
    plan = plan.loc[~plan.geometry.isna().to_numpy(bool)]
    years = result.plan.years["year"].tolist()
    out = []
    groups = [(y, YEAR_COLOURS[min(k, len(YEAR_COLOURS) - 1)]) for k, y in enumerate(years)]
    for year, colour in [*groups, (None, RESERVE_COLOUR)]:
        if year is None:
            rows = plan["state"].isin(["reserve", "unplanned"]).to_numpy(bool)
            name = text(lang, "plan_map_reserve")
        else:
            rows = (plan["year"] == year).fillna(False).to_numpy(bool)
            name = text(lang, "plan_map_year", year=year)
        these = plan.loc[rows]
        if not len(these):
            continue
        tips = [
            fragment("{} {} · {}", cid, nm, text(lang, f"plan_state_{st}"))
            for cid, nm, st in zip(these["cid"], these["name"], these["state"], strict=True)
        ]
        data = outline_features(these, tips, basemap)
        layer = outline_layer(data, name, colour, show=False, fill=0.7, weight=1.5, dash="")
        layer.add_to(fmap)
        count = int(np.count_nonzero(rows))
        label = text(lang, "plan_map_legend", name=name, count=count)
        out.append({"ref": layer.get_name(), "html": section("", [(colour, label)])})
    return out
