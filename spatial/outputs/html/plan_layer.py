"""The programme by year on the overview map: one layer per year of the programme (off until
ticked in the layer control, so the year filter is the control's checkboxes), the compounds
filled in the year's colour, the work finished or started outside its years outlined, and
the reserve in grey; with legend rows. Texts from the data
enter through :func:`spatial.text.html.esc`."""

from __future__ import annotations

import folium
import numpy as np

from spatial.analysis.result import RunResult
from spatial.core.messages import text
from spatial.outputs.html.overlays import outline_features, outline_layer, section
from spatial.outputs.style import RESERVE_COLOUR, year_colours
from spatial.text.html import fragment

EARLIER_COLOUR = "#252525"  # work finished or started outside the programme's years


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
    for name, rows, colour, fill in _groups(plan, years, lang):
        these = plan.loc[rows]
        if not len(these):
            continue
        tips = [
            fragment("{} {} · {}", cid, nm, text(lang, f"plan_state_{st}"))
            for cid, nm, st in zip(these["cid"], these["name"], these["state"], strict=True)
        ]
        data = outline_features(these, tips, basemap)
        layer = outline_layer(data, name, colour, show=False, fill=fill, weight=1.5, dash="")
        layer.add_to(fmap)
        count = int(np.count_nonzero(rows))
        label = text(lang, "plan_map_legend", name=name, count=count)
        out.append({"ref": layer.get_name(), "html": section("", [(colour, label)])})
    return out


def _groups(plan, years: list[int], lang: str) -> list[tuple[str, np.ndarray, str, float]]:
    """(layer name, rows, colour, fill opacity) of each layer: every year of the programme in
    its colour (as on the print page), the work finished or started in another year (outlined),
    and the reserve."""
    out = [
        (text(lang, "plan_map_year", year=year), (plan["year"] == year).fillna(False).to_numpy(bool),
         colour, 0.7)
        for year, colour in zip(years, year_colours(len(years)), strict=True)
    ]  # fmt: skip
    fixed = plan["state"].isin(["done", "started"]).to_numpy(bool)
    earlier = fixed & ~plan["year"].isin(years).to_numpy(bool, na_value=False)
    out.append((text(lang, "plan_map_earlier"), earlier, EARLIER_COLOUR, 0.15))
    reserve = plan["state"].isin(["reserve", "unplanned"]).to_numpy(bool)
    out.append((text(lang, "plan_map_reserve"), reserve, RESERVE_COLOUR, 0.7))
    return out
