"""The programme by year (年度计划, issue 27): caps and deadlines hold on random instances, bundles
stay whole, the MILP equals a brute-force enumeration, an infeasible deadline names itself, a
rerun keeps finished and started work in place, willingness below the gate goes to the reserve."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from spatial.analysis.plan.items import build_items
from spatial.analysis.plan.model import objective
from spatial.analysis.plan.planner import Planner
from spatial.config.schema import PlanConfig


def _compounds(n: int, seed: int, bundles: int = 0, willingness: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bundle = [pd.NA] * n
    for k, row in enumerate(rng.choice(n, size=min(2 * bundles, n), replace=False)):
        bundle[row] = f"B{k // 2 + 1:02d}"
    return pd.DataFrame(
        {
            "cid": [f"C{i:03d}" for i in range(n)],
            "bundle_id": pd.array(bundle, dtype="string"),
            "tier": rng.choice(["priority", "standard"], size=n),
            "score": rng.integers(0, 100, size=n).astype(float),
            "households": rng.integers(50, 600, size=n).astype(float),
            "floor_area": rng.integers(3000, 40000, size=n).astype(float),
            "investment": rng.integers(100, 2000, size=n).astype(float),
            "willingness": rng.uniform(0.5, 1.0, size=n) if willingness else np.nan,
            "status": [""] * n,
            "status_year": np.nan,
        }
    )


def _check_rules(planner: Planner) -> None:
    """Every cap holds in every year, bundles are whole, the deadlines are met."""
    plan, cfg = planner.plan, planner.cfg
    for year in range(cfg.start, cfg.end + 1):
        these = plan.loc[(plan["year"] == year).fillna(False).to_numpy(bool)]
        assert these["households"].sum() <= (cfg.max_households or np.inf) + 1e-6
        assert these["floor_area"].sum() <= (cfg.max_floor_area or np.inf) + 1e-6
        assert len(these) <= (cfg.max_compounds or np.inf)
        assert these["investment"].sum() <= (cfg.max_investment or np.inf) + 1e-6
    for _, group in plan.dropna(subset=["bundle_id"]).groupby("bundle_id"):
        assert group["year"].nunique(dropna=False) == 1  # one year, or all in the reserve
    if cfg.priority_by:
        prio = plan.loc[plan["tier"] == "priority"]
        assert (prio["year"] <= cfg.priority_by).fillna(False).all()
    if cfg.share_by:
        by = (plan["year"] <= cfg.share_by).fillna(False).sum()
        assert by >= np.ceil(cfg.share * len(plan) - 1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_caps_and_deadlines_hold_on_random_instances(seed):
    rng = np.random.default_rng(100 + seed)
    comp = _compounds(int(rng.integers(8, 40)), seed, bundles=int(rng.integers(0, 5)))
    total = comp["households"].sum()
    cfg = PlanConfig(start=2027, end=2030, max_households=float(total / 3),
                     max_compounds=int(len(comp) // 3 + 2), max_investment=float(comp["investment"].sum() / 3),
                     priority_by=2029, share=0.5, share_by=2028)  # fmt: skip
    planner = Planner(comp, cfg, None).solve()
    if planner.solution.status == "infeasible":
        assert planner.diagnosis["priority"] or planner.diagnosis["share"]
        return
    assert planner.solution.status == "optimal"
    _check_rules(planner)
    assert planner.shortfall == {"priority": 0.0, "share": 0.0}


def _brute_force(comp: pd.DataFrame, cfg: PlanConfig) -> float:
    """The best objective over every assignment of the items to years or the reserve."""
    items = build_items(comp, np.arange(len(comp)), cfg.split_bundles)
    t = cfg.end - cfg.start + 1
    caps = {"households": cfg.max_households, "floor_area": cfg.max_floor_area}
    best = -1.0
    for choice in itertools.product(range(-1, t), repeat=len(items)):
        year = np.array(choice)
        ok = all(
            items.weight[name][year == k].sum() <= cap + 1e-9
            for name, cap in caps.items() if cap for k in range(t)
        )  # fmt: skip
        if cfg.priority_by:
            cut = cfg.priority_by - cfg.start
            ok &= bool(np.all((year[items.priority > 0] >= 0) & (year[items.priority > 0] <= cut)))
        if ok:
            best = max(best, objective(items, year, t))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_the_solvers_plan_equals_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    comp = _compounds(int(rng.integers(4, 8)), seed, bundles=1)
    cfg = PlanConfig(start=2027, end=2028 + seed % 2, max_households=float(comp["households"].sum() / 3),
                     max_floor_area=float(comp["floor_area"].sum() / 2),
                     priority_by=2029 if seed % 3 == 0 else 0)  # fmt: skip
    planner = Planner(comp, cfg, None).solve()
    best = _brute_force(comp, cfg)
    if best < 0:
        assert planner.solution.status == "infeasible"
    else:
        assert planner.solution.status == "optimal"
        assert planner.solution.objective == pytest.approx(best, rel=1e-9)
        _check_rules(planner)


def test_bundles_are_never_split_unless_allowed():
    comp = _compounds(6, 1)
    comp["bundle_id"] = pd.array(["B01"] * 3 + [pd.NA] * 3, dtype="string")
    comp["households"] = [300.0, 300, 300, 100, 100, 100]
    cfg = PlanConfig(start=2027, end=2029, max_households=600.0)
    plan = Planner(comp, cfg, None).solve().plan
    # 900 households: the bundle fits no year under a 600 cap, so it waits in the reserve
    assert plan["year"].iloc[:3].isna().all() and set(plan["reason"].iloc[:3]) == {"over_cap"}
    assert plan["year"].iloc[3:].notna().all()
    cfg.split_bundles = True
    plan = Planner(comp, cfg, None).solve().plan
    assert plan["year"].notna().all()
    assert plan.groupby("year")["households"].sum().max() <= 600


def test_an_infeasible_deadline_names_itself_and_by_how_much():
    comp = _compounds(10, 3)
    comp["tier"] = "priority"
    comp["households"] = 100.0
    cfg = PlanConfig(start=2027, end=2030, max_households=300.0, priority_by=2028)
    planner = Planner(comp, cfg, None).solve()
    assert planner.solution.status == "infeasible"
    # 2 years × 3 compounds of 100 households: 6 by 2028, 4 priority compounds left over
    assert planner.diagnosis["priority"] == 4
    assert planner.diagnosis["share"] == 0
    assert planner.diagnosis["caps"] == {"households": 500.0}  # 10 × 100 over two years
    assert set(planner.plan["state"]) == {"unplanned"}  # no silent partial programme


def test_a_share_deadline_short_names_the_compounds_missing():
    comp = _compounds(10, 4)
    comp["households"] = 100.0
    cfg = PlanConfig(start=2027, end=2030, max_compounds=2, share=0.85, share_by=2029)
    planner = Planner(comp, cfg, None).solve()
    assert planner.solution.status == "infeasible"
    assert planner.diagnosis["share"] == 3  # 9 needed by 2029, 2 a year for 3 years
    assert planner.diagnosis["caps"] == {"compounds": 3.0}


def test_willingness_below_the_gate_goes_to_the_reserve():
    comp = _compounds(5, 5)
    comp["willingness"] = [0.9, 0.6, np.nan, 2 / 3, 0.7]
    plan = Planner(comp, PlanConfig(start=2027, end=2028), 2 / 3).solve().plan
    assert list(plan["state"]) == ["planned", "reserve", "reserve", "planned", "planned"]
    assert list(plan["reason"]) == ["", "willingness_low", "willingness_unknown", "", ""]
    # without a willingness column no gate applies
    plan = Planner(comp, PlanConfig(start=2027, end=2028), None).solve().plan
    assert (plan["state"] == "planned").all()


def test_a_rerun_keeps_finished_and_started_work_in_place():
    comp = _compounds(12, 6, bundles=2)
    cfg = PlanConfig(start=2027, end=2030, max_households=float(comp["households"].sum() / 4))
    first = Planner(comp, cfg, None).solve().plan
    # the planner marks the first plan's 2027 work finished and its 2028 work started, and
    # gives the 2028 work a year no plan would choose (2030)
    again = comp.copy()
    in_2027 = (first["year"] == 2027).fillna(False).to_numpy(bool)
    in_2028 = (first["year"] == 2028).fillna(False).to_numpy(bool)
    again.loc[in_2027, "status"], again.loc[in_2027, "status_year"] = "done", 2027
    again.loc[in_2028, "status"], again.loc[in_2028, "status_year"] = "started", 2030
    again["score"] = again["score"].to_numpy()[::-1]  # new priorities would move everything
    second = Planner(again, cfg, None).solve()
    plan = second.plan
    assert (plan.loc[in_2027, "year"] == 2027).all() and (
        plan.loc[in_2027, "state"] == "done"
    ).all()
    assert (plan.loc[in_2028, "year"] == 2030).all()
    assert (plan.loc[in_2028, "state"] == "started").all()
    _check_rules(second)  # the started work counts against 2030's cap


def test_coverage_grows_with_the_sites_built_in_the_year_of_the_compounds_they_serve():
    from spatial.analysis.plan.coverage import coverage_by_year

    comm = pd.DataFrame({"cid": ["A", "B", "C", "D"], "households": [100.0, 200, 300, 400],
                         "a_ok": [True, True, False, True], "b_ok": [True, False, False, False]})  # fmt: skip
    sites = pd.DataFrame({"category": ["b", "a", "b"], "covered_ids": ["B,C", "C", "D"]})
    # B in 2028, C finished before the programme (counts from its start), D in the reserve
    plan = pd.DataFrame({"cid": ["B", "C", "D"], "year": pd.array([2028, 2025, None], "Int64")})
    grows = coverage_by_year(comm, sites, plan, ["a", "b"], [2027, 2028])
    assert grows["before"] == {"full_coverage_households": 0.1, "full_coverage_communities": 0.25}
    # 2027: the sites of C (a, and b through the site shared with B) — C full, B full too
    assert grows["by_year"][0] == {"year": 2027, "sites": 2, "full_coverage_households": 0.6,
                                   "full_coverage_communities": 0.75}  # fmt: skip
    assert grows["by_year"][1]["sites"] == 0 and grows["sites_outside"] == 1  # D's site waits


def test_the_overview_map_has_a_layer_per_year_and_the_reserve_with_names_inert():
    from types import SimpleNamespace

    import folium
    import geopandas as gpd
    import shapely

    from spatial.analysis.result import PlanResult
    from spatial.outputs.html.plan_layer import plan_layers

    boxes = [
        shapely.box(500_000 + 100 * i, 4_000_000, 500_080 + 100 * i, 4_000_080) for i in range(3)
    ]
    plan = gpd.GeoDataFrame(
        {"cid": ["A", "B", "C"], "name": ["<script>alert(1)</script>", "乙", "丙"],
         "year": pd.array([2027, 2028, None], "Int64"), "state": ["planned", "started", "reserve"]},
        geometry=boxes, crs=4548,
    )  # fmt: skip
    years = pd.DataFrame({"year": [2027, 2028, 2029]})
    result = SimpleNamespace(plan=PlanResult(plan, years), summary={"plan": {"status": "optimal"}})
    fmap = folium.Map()
    legend = plan_layers(fmap, result, "zh", "none")
    html = fmap.get_root().render()
    assert len(legend) == 3  # 2027, 2028, the reserve (2029 has no compound)
    names = [c.layer_name for c in fmap._children.values() if isinstance(c, folium.map.Layer)]
    assert names[1:] == ["2027 年改造", "2028 年改造", "储备（未列入计划）"]  # after the tiles
    assert "2027 年改造：1 个小区" in str(legend[0]["html"])
    # the name is escaped in the tooltip (HTML-escaped, then JSON-encoded by folium)
    assert "<script>alert(1)</script>" not in html and "\\u0026lt;script\\u0026gt;alert" in html


def test_work_outside_the_programmes_years_has_its_own_layer_and_the_years_their_colours():
    from types import SimpleNamespace

    import folium
    import geopandas as gpd
    import shapely

    from spatial.analysis.result import PlanResult
    from spatial.outputs.html.plan_layer import EARLIER_COLOUR, plan_layers
    from spatial.outputs.style import year_colours

    boxes = [
        shapely.box(500_000 + 100 * i, 4_000_000, 500_080 + 100 * i, 4_000_080) for i in range(4)
    ]
    plan = gpd.GeoDataFrame(
        {"cid": ["A", "B", "C", "D"], "name": ["甲", "乙", "丙", "丁"],
         "year": pd.array([2027, 2030, 2025, None], "Int64"),
         "state": ["planned", "planned", "done", "started"]},
        geometry=boxes, crs=4548,
    )  # fmt: skip
    years = pd.DataFrame({"year": [2027, 2028, 2029, 2030]})
    result = SimpleNamespace(plan=PlanResult(plan, years), summary={"plan": {"status": "optimal"}})
    fmap = folium.Map()
    legend = plan_layers(fmap, result, "zh", "none")
    names = [c.layer_name for c in fmap._children.values() if isinstance(c, folium.map.Layer)]
    # finished in 2025 and started without a year: neither in a year's layer nor the reserve
    assert names[1:] == ["2027 年改造", "2030 年改造", "计划年度外已完成或在建"]
    assert "计划年度外已完成或在建：2 个小区" in str(legend[2]["html"])
    first, *_, last = year_colours(4)
    assert first in str(legend[0]["html"]) and last in str(legend[1]["html"])
    assert EARLIER_COLOUR in str(legend[2]["html"])
