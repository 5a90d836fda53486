"""The programme by year (年度计划) on the print pack: one A3 page (``plan.png``, and the page
after the overview in ``overview.pdf``) with each eligible compound filled in the colour of its
year (:func:`spatial.outputs.style.year_colours`: dark to light, apart in greyscale), the reserve
(储备) hatched grey, finished (已完成) and started (在建) work marked, the bundles outlined and
labelled; the legend gives each year's compounds, households and investment (the plan's
``years`` frame, under the ledger's 年度计划 headers) and the headline how full coverage grows
year by year (``summary.json["plan"]["coverage"]``).

Drawn only when the run has a programme that meets its rules: an infeasible programme places no
compound (the terminal, the ledger and ``summary.json`` say why). Text from the data (the project
name, bundle ids) enters through :func:`spatial.text.printing.shown`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.outputs.printing.draw import lines, polygons
from spatial.outputs.printing.page import (
    MapBase,
    bundle_labels,
    coverage_definition,
    coverage_rule,
    empty_note,
    finish,
    map_page,
    stamp,
    thinned_note,
)
from spatial.outputs.style import share_text, year_colours
from spatial.text.printing import shown, wrap

EDGE = "#333333"  # the outline of a compound in the programme
RESERVE_FILL, RESERVE_EDGE, RESERVE_HATCH = "#e0e0e0", "#737373", "////"
EARLIER_FILL = "#ffffff"  # finished or started in a year outside the programme: marked only
OTHER_FILL, OTHER_EDGE = "#f4f4f4", "#bdbdbd"  # communities outside the programme
BUNDLE_LINE = "#252525"  # dashed over a white halo: apart from every year colour
DONE = {"marker": "o", "color": "black", "markeredgecolor": "white", "markersize": 8}
STARTED = {"marker": "^", "color": "white", "markeredgecolor": "black", "markersize": 9}
#: beyond this many years a year's legend entry gives its compounds only (the ledger the rest)
FULL_LEGEND_YEARS = 8
UNITS = 36  # a legend line's width in half-width units (wrapped, then cut to the legend's room)


def has_plan_page(result: RunResult) -> bool:
    """Whether the print pack has the programme's page: a programme that meets its rules."""
    block = result.summary.get("plan") or {}
    return result.plan is not None and block.get("status", "infeasible") != "infeasible"


def plan_title(result: RunResult, lang: str) -> str:
    """The page's name (its bookmark in ``overview.pdf``): 年度计划 2027–2030."""
    block = result.summary["plan"]
    return text(lang, "print_plan_title", start=block["start"], end=block["end"])


def plan_page(base: MapBase, lang: str):
    """The programme by year as a matplotlib figure on the pages' shared ``base``.

    Parameters
    ----------
    base : MapBase
        The map pages' extent and streets (its ``result`` has a programme: :func:`has_plan_page`).
    lang : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    result = base.result
    plan = result.plan.plan
    plan = plan.loc[~plan.geometry.isna().to_numpy(bool)]
    years = result.plan.years
    colours = dict(zip(years["year"].tolist(), year_colours(len(years)), strict=True))
    title = f"{shown(result.project.name)} — {plan_title(result, lang)}"
    fig, ax = map_page(base, title, _headline(result, lang), coverage_rule(result, lang))
    comm = result.communities
    outside = ~comm["cid"].astype(str).isin(set(plan["cid"].astype(str))).to_numpy(bool)
    polygons(ax, comm.geometry.values[outside], OTHER_FILL, OTHER_EDGE, 0.3)
    _compounds(ax, plan, colours)
    handles = _year_entries(result, colours, lang)
    handles += _earlier_entry(plan, colours, lang)
    handles += _reserve_entry(result, lang)
    handles += _status_marks(ax, plan, lang)
    others = wrap(text(lang, "print_plan_others"), UNITS)
    handles.append(Patch(fc=OTHER_FILL, ec=OTHER_EDGE, label=others))
    bundles = result.bundling.bundles if result.bundling else None
    if bundles is not None and len(bundles):
        handles.append(_bundles(ax, bundles, lang))
    finish(ax, handles, _legend_title(result, lang), fontsize=10 if len(years) <= 5 else 8)
    return fig


def _compounds(ax, plan: pd.DataFrame, colours: dict) -> None:
    """Each compound filled in its year's colour; the reserve hatched; work finished or started
    outside the programme's years white (its status mark says which)."""
    year = plan["year"].astype("Float64").to_numpy(float, na_value=np.nan)
    reserve = plan["state"].isin(["reserve", "unplanned"]).to_numpy(bool)
    fills = [colours.get(int(y), EARLIER_FILL) if np.isfinite(y) else EARLIER_FILL for y in year]
    geoms = plan.geometry.values
    polygons(ax, geoms[~reserve], np.array(fills, object)[~reserve].tolist(), EDGE, 0.3)
    polygons(ax, geoms[reserve], RESERVE_FILL, RESERVE_EDGE, 0.4, hatch=RESERVE_HATCH)


def _status_marks(ax, plan: pd.DataFrame, lang: str) -> list:
    """A mark on each finished (●) and started (▲) compound; their legend entries."""
    handles = []
    for state, style in (("done", DONE), ("started", STARTED)):
        these = plan.loc[(plan["state"] == state).to_numpy(bool)]
        if not len(these):
            continue
        at = shapely.get_coordinates(shapely.point_on_surface(these.geometry.values))
        ax.plot(at[:, 0], at[:, 1], ls="", zorder=5, markeredgewidth=1.2, **style)
        name = text(lang, f"plan_state_{state}")
        label = text(lang, "plan_map_legend", name=name, count=len(these))
        handles.append(Line2D([], [], ls="", markeredgewidth=1.2, label=label, **style))
    return handles


def _bundles(ax, bundles, lang: str) -> Patch:
    """The bundles outlined (dashed, one colour: the fill is the year's) and labelled."""
    geoms = bundles.geometry.values
    lines(ax, geoms, "white", 3.4, zorder=4)  # a halo: the outline stands out on any year colour
    lines(ax, geoms, BUNDLE_LINE, 1.8, zorder=4.1, linestyle="--")
    drawn = bundle_labels(ax, bundles, 8)
    thinned_note(ax, drawn, len(bundles), lang)
    label = f"{labels(lang)['bundles']} ({len(bundles)})"
    return Patch(fc="none", ec=BUNDLE_LINE, ls="--", lw=1.8, label=label)


def _headline(result: RunResult, lang: str) -> list[str]:
    """How full coverage grows year by year; the programme (solver, counts, any deadline the
    greedy programme misses) and the date; what full coverage means."""
    block = result.summary["plan"]
    head = text(
        lang, "cli_plan_head", start=block["start"], end=block["end"],
        method=text(lang, f"plan_method_{block['method']}"),
        status=text(lang, f"plan_status_{block['status']}"),
        planned=block["planned"], reserve=block["reserve"], done=block["done"],
        started=block["started"],
    ).strip()  # fmt: skip
    head += _shortfall(block, lang) + "   " + stamp(result, lang)
    grows, cov = block.get("coverage"), result.summary.get("coverage")
    if not grows or not cov:
        return [head]
    basket = cov.get("basket", [])
    return [_growth(result, grows, lang), head, coverage_definition(result, lang, basket)]


def _growth(result: RunResult, grows: dict, lang: str) -> str:
    """Full coverage now and after each year, with the national target."""
    lab = labels(lang)
    cov = result.summary["coverage"]
    known = cov["full_coverage_households"] is not None
    key = "full_coverage_households" if known else "full_coverage_communities"
    steps = " → ".join(
        text(lang, "print_plan_step", year=y["year"], share=share_text(y[key]))
        for y in grows["by_year"]
    )
    line = text(
        lang, "print_plan_growth", label=lab["full_share" if known else "full_share_communities"],
        before=share_text(grows["before"][key]), steps=steps,
    )  # fmt: skip
    if grows["sites_outside"]:
        line += "   " + text(lang, "print_plan_sites_outside", count=grows["sites_outside"])
    line += f"   {lab['target']} {cov['national_target']:.0%}"
    return empty_note(result, lang, cov.get("basket", [])) + line


def _shortfall(block: dict, lang: str) -> str:
    """What a greedy programme misses of each deadline ("" when it meets them)."""
    short, due = block.get("shortfall") or {}, block["deadlines"]
    out = ""
    if short.get("priority"):
        out += text(
            lang, "print_plan_short_priority", by=due["priority_by"], count=short["priority"]
        )
    if short.get("share"):
        out += text(lang, "print_plan_short_share", by=due["share_by"], count=short["share"])
    return out


def _legend_title(result: RunResult, lang: str) -> str:
    """The ledger's sheet name, the annual caps in force and, for a long programme, where each
    year's figures are."""
    block = result.summary["plan"]
    title = labels(lang)["ledger"]["sheets"]["plan"]
    caps = text(lang, "sep_list").join(
        f"{text(lang, f'plan_figure_{name}')} {value:,.0f}" for name, value in block["caps"].items()
    )
    if caps:
        title += "\n" + text(lang, "print_plan_caps", caps=caps)
    if len(block["years"]) > FULL_LEGEND_YEARS:  # the entries give each year's compounds only
        title += "\n" + text(lang, "print_plan_see_ledger")
    return title


def _year_entries(result: RunResult, colours: dict, lang: str) -> list[Patch]:
    """One legend entry per year: its compounds and bundles, households, investment and full
    coverage after it, under the ledger's 年度计划 headers (the plan's ``years`` frame)."""
    heads = labels(lang)["ledger"]["plan"]
    plan, years = result.plan.plan, result.plan.years
    full = len(years) <= FULL_LEGEND_YEARS
    known = {c: plan[c].notna().any() for c in ("households", "investment")}
    handles = []
    for row in years.to_dict("records"):
        name = text(lang, "plan_map_year", year=row["year"])
        rows = []
        if full:
            these = plan.loc[(plan["year"] == row["year"]).fillna(False).to_numpy(bool)]
            rows = [f"{heads['bundles']} {row['bundles']}"]
            rows += [
                f"{heads[c]} {row[c]:,.0f}" + _unknown(these[c], lang) for c in known if known[c]
            ]
            if "full_coverage_households" in row:
                rows.append(_share(result, row, lang))
        first = text(lang, "plan_map_legend", name=name, count=row["compounds"])
        label = "\n".join(wrap(line, UNITS) for line in [first, *rows])
        handles.append(Patch(fc=colours[row["year"]], ec=EDGE, label=label))
    return handles


def _share(result: RunResult, row: dict, lang: str) -> str:
    """Full coverage after the year: the households' share under the ledger's header, or the
    communities' share when the data has no households."""
    grows = result.summary["plan"]["coverage"]["by_year"]
    found = next(y for y in grows if y["year"] == row["year"])
    if result.summary["coverage"]["full_coverage_households"] is None:
        word, share = labels(lang)["full_share_communities"], found["full_coverage_communities"]
    else:
        word = labels(lang)["ledger"]["plan"]["full_coverage_households"]
        share = found["full_coverage_households"]
    return f"{word} {share_text(share)}"


def _unknown(values: pd.Series, lang: str) -> str:
    """ " (3 compounds unknown)" after a year's total when some of its compounds lack the figure."""
    count = int(values.isna().sum())
    return text(lang, "print_plan_unknown", count=count) if count else ""


def _earlier_entry(plan: pd.DataFrame, colours: dict, lang: str) -> list[Patch]:
    """The legend entry of the work finished or started outside the programme's years."""
    fixed = plan["state"].isin(["done", "started"]).to_numpy(bool)
    earlier = fixed & ~plan["year"].isin(list(colours)).to_numpy(bool, na_value=False)
    if not earlier.any():
        return []
    label = text(
        lang, "plan_map_legend", name=text(lang, "plan_map_earlier"), count=int(earlier.sum())
    )
    return [Patch(fc=EARLIER_FILL, ec=EDGE, label=wrap(label, UNITS))]


def _reserve_entry(result: RunResult, lang: str) -> list[Patch]:
    """The reserve's legend entry: its compounds and households."""
    block = result.summary["plan"]
    if not block["reserve"]:
        return []
    heads = labels(lang)["ledger"]["plan"]
    first = text(
        lang, "plan_map_legend", name=text(lang, "plan_map_reserve"), count=block["reserve"]
    )
    label = f"{wrap(first, UNITS)}\n{heads['households']} {block['reserve_households']:,.0f}"
    return [Patch(fc=RESERVE_FILL, ec=RESERVE_EDGE, hatch=RESERVE_HATCH, label=label)]
