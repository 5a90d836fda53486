"""Capacity (spatial.analysis.capacity.twostep): 2SFCA against PySAL ``access`` and a hand-computed case, supply
read or assumed, demand from households and census shares, catchment distances = coverage's."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.analysis.capacity.twostep import (
    community_demand,
    compute_capacity,
    decay_weights,
    facility_supply,
    two_step,
)
from spatial.config.indicators import Capacity, load_capacity
from spatial.config.project import Project, load_project
from spatial.config.standards import load_standards
from spatial.core.errors import ConfigError
from spatial.network.catchment import NetworkCatchments, straight_pairs
from spatial.workflow import pipeline

access = pytest.importorskip("access")  # PySAL access: the peer (test extra)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside access, pandas 3


def _peer(pairs: pd.DataFrame, supply, demand, radius: float, weight_fn=None, enhanced=False):
    """PySAL access's 2SFCA (or enhanced 2SFCA) on the same cost matrix."""
    dem = pd.DataFrame({"cid": np.arange(len(demand)), "pop": demand})
    sup = pd.DataFrame({"fid": np.arange(len(supply)), "cap": supply})
    cost = pairs.rename(columns={"community": "origin", "facility": "dest", "distance_m": "cost"})
    acc = access.Access(
        demand_df=dem, demand_index="cid", demand_value="pop", supply_df=sup, supply_index="fid",
        supply_value="cap", cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost",
    )  # fmt: skip
    run = acc.enhanced_two_stage_fca if enhanced else acc.two_stage_fca
    out = run(name="x", max_cost=radius, weight_fn=weight_fn)
    return out["x_cap"].reindex(np.arange(len(demand))).fillna(0.0).to_numpy()


def test_two_step_hand_computed():
    # F0 (100) serves C0 (50) and C1 (100); F1 (60) serves C1 and C2 (50)
    pairs = pd.DataFrame({"facility": [0, 0, 1, 1], "community": [0, 1, 1, 2],
                          "distance_m": [100.0, 200.0, 50.0, 250.0]})  # fmt: skip
    supply, demand = np.array([100.0, 60.0]), np.array([50.0, 100.0, 50.0])
    got = two_step(pairs, supply, demand, 3)
    # R0 = 100 / 150, R1 = 60 / 150; A = R0, R0 + R1, R1
    assert got == pytest.approx([2 / 3, 2 / 3 + 0.4, 0.4])
    assert (got * demand).sum() == pytest.approx(160.0)  # all supply allocated
    assert got == pytest.approx(_peer(pairs, supply, demand, 300.0))


@pytest.mark.parametrize("decay", ["none", "gaussian", "linear"])
@pytest.mark.parametrize("seed", range(5))
def test_two_step_equals_pysal_access(seed, decay):
    rng = np.random.default_rng(seed)
    n_fac, n_comm, radius = rng.integers(3, 30), rng.integers(5, 80), 500.0
    fac_xy, comm_xy = rng.uniform(0, 2000, (n_fac, 2)), rng.uniform(0, 2000, (n_comm, 2))
    dist = np.hypot(*(fac_xy[:, None, :] - comm_xy[None, :, :]).transpose(2, 0, 1))
    f, c = np.nonzero(dist <= radius)
    pairs = pd.DataFrame({"facility": f, "community": c, "distance_m": dist[f, c]})
    supply = rng.uniform(20, 500, n_fac)
    demand = rng.uniform(10, 1000, n_comm)
    w = decay_weights(pairs["distance_m"].to_numpy(), radius, decay)
    ours = two_step(pairs, supply, demand, n_comm, w)
    if decay == "none":
        peer = _peer(pairs, supply, demand, radius)
    else:
        fn = (access.weights.gaussian(radius / 2) if decay == "gaussian"
              else (lambda d: max(0.0, 1 - d / radius)))  # fmt: skip
        peer = _peer(pairs, supply, demand, radius, weight_fn=fn, enhanced=True)
    served = np.bincount(f, minlength=n_fac) > 0
    assert ours == pytest.approx(peer, rel=1e-9, abs=1e-12)
    if decay == "none":  # every facility's supply reaches its catchment in full
        assert (ours * demand).sum() == pytest.approx(supply[served].sum())


def _capacity(**overrides) -> Capacity:
    project = Project()
    for key, value in overrides.items():
        setattr(project.capacity, key, value)
    return load_capacity(project, load_standards(project))


def _communities(households, subdistricts=None, eligible=None, **columns):
    n = len(households)
    return gpd.GeoDataFrame(
        {"cid": [f"C{i}" for i in range(n)], "households": np.asarray(households, float),
         "subdistrict": subdistricts or [""] * n,
         "eligible": eligible if eligible is not None else [False] * n, **columns},
        geometry=[shapely.box(i * 100, 0, i * 100 + 50, 50) for i in range(n)], crs=4548,
    )  # fmt: skip


def test_demand_from_households_census_shares_and_overrides():
    cap = _capacity(subdistricts={"东城": {"persons_per_household": 3.0, "older": 0.3}})
    comm = _communities([100, 100, 100], ["西城", "东城", "西城"],
                        older=[np.nan, np.nan, 40.0])  # fmt: skip
    d = community_demand(comm, cap)
    assert cap.demographics["persons_per_household"] == 2.6
    assert d["population"] == pytest.approx([260, 300, 260])
    assert d["older"] == pytest.approx([260 * 0.209, 300 * 0.3, 40])  # column wins
    assert d["infants"] == pytest.approx([260 * 0.03, 300 * 0.03, 260 * 0.03])
    project_wide = community_demand(comm, _capacity(persons_per_household=2.0))
    assert project_wide["population"][0] == 200


def test_supply_read_or_assumed_and_flagged():
    std = load_standards(Project())
    cap = _capacity()
    fac = gpd.GeoDataFrame(
        {"category": ["nursery", "nursery", "elderly_daycare", "market"],
         "name": ["a", "b", "c", "d"], "places": [40.0, np.nan, np.nan, np.nan]},
        geometry=shapely.points([(0, 0)] * 4), crs=4548,
    )  # fmt: skip
    supply, assumed = facility_supply(fac, std, cap)
    # nursery: 300–1200 m² midpoint 750 / 10 m² per place; day care: 350–750 m² midpoint
    assert supply.tolist() == [40.0, 75.0, 550.0, 0.0]
    assert assumed.tolist() == [False, True, True, False]


def test_ratio_shortfall_state_and_existing_area_target():
    std = load_standards(Project())
    cap = _capacity()
    comm = _communities([100, 100, 100], eligible=[True, False, False])
    fac = gpd.GeoDataFrame({"category": ["elderly_daycare"], "name": ["站"],
                            "floor_area": [30.0]}, geometry=shapely.points([(0, 0)]), crs=4548)  # fmt: skip
    pairs = {k: pd.DataFrame({"facility": [], "community": [], "distance_m": []})
             for k in cap.indicators}  # fmt: skip
    pairs["elderly_daycare"] = pd.DataFrame(
        {"facility": [0, 0], "community": [0, 1], "distance_m": [10.0, 20.0]}
    )
    out, problems, totals = compute_capacity(comm, fac, std, cap, pairs)
    # 30 m² over 200 households = 15 m²/100 households; old (eligible) C0 target 15, C1 target 20
    assert out["elderly_daycare_ratio"].tolist()[:2] == [1.0, 0.75]
    # kept unrounded (totals are rounded once): (20 - 15) m² per 100 households × 100
    assert out["elderly_daycare_short"].tolist() == pytest.approx([0.0, 5.0, 20.0], abs=1e-9)
    assert out["elderly_daycare_state"].tolist() == ["covered", "served_short", "gap"]
    assert not out["elderly_daycare_assumed"].any()  # capacity given: only the demand defaults
    assert [p.code for p in problems] == ["demand_defaults"]  # said (issue 30)
    assert totals["elderly_daycare"]["supply"] == 30.0


def test_targets_override_by_chinese_name_and_bad_settings(tmp_path):
    cap = _capacity(targets={"托儿所": 6.0})
    assert cap.indicators["nursery"].target == 6.0
    path = tmp_path / "project.toml"
    path.write_text('[communities]\npath = "c.gpkg"\n[capacity]\ndecay = "cubic"\n', "utf-8")
    with pytest.raises(ConfigError, match="decay"):
        load_project(path)
    path.write_text('[communities]\npath = "c.gpkg"\n[capacity]\nshares = { older = 2 }\n', "utf-8")
    with pytest.raises(ConfigError, match="older"):
        load_project(path)


@pytest.fixture(scope="module")
def demo_run(demo_analysis):
    # own_frames: test_capacity_layer_text_is_escaped writes a community name
    return demo_analysis(["coverage"], own_frames=True)


def test_catchment_distances_are_the_coverage_distances(demo_run):
    from spatial.network.access_points import polygon_access

    result, std = demo_run, demo_run.standards
    comm, fac = result.communities, result.layers.facilities
    cfg = result.project.coverage
    acc = polygon_access(result.network, comm.geometry.values, cfg.access_spacing_m,
                           cfg.max_snap_m)  # fmt: skip
    points = shapely.get_coordinates(fac.geometry.values)
    catch = NetworkCatchments(result.network, points, acc, cfg.max_snap_m)
    for key in ("elderly_daycare", "nursing_home", "kindergarten"):
        radius = std.categories[key].radius_m
        pairs = catch.pairs(np.flatnonzero(fac["category"] == key), radius)
        nearest = pairs.groupby("community")["distance_m"].min()
        covered = comm[f"{key}_m"].to_numpy() <= radius
        assert sorted(nearest.index) == list(np.flatnonzero(covered))
        assert np.allclose(nearest.round(1), comm[f"{key}_m"].to_numpy()[nearest.index])


def test_straight_pairs_follow_coverage_fallback():
    comm = np.array([shapely.box(0, 0, 100, 100), shapely.box(500, 0, 600, 100)])
    points = np.array([[150.0, 50.0], [1000.0, 50.0]])
    pairs = straight_pairs(comm, points, np.array([0, 1]), 300.0, 1.3)
    # facility 0: 50 m × 1.3 = 65 to C0, 350 × 1.3 = 455 > 300 to C1; facility 1: 400 × 1.3 > 300
    assert pairs.values.tolist() == [[0, 0, 65.0]]


def test_demo_summary_block_and_columns(demo_run):
    block = demo_run.summary["capacity"]
    day = block["categories"]["elderly_daycare"]
    comm = demo_run.communities
    assert day["facilities"] == day["facilities_assumed"] > 0 and day["assumed_share"] == 1.0
    assert day["shortfall"] == pytest.approx(comm["elderly_daycare_short"].sum(), abs=1)
    # all supply within reach of some demand is allocated (no decay)
    assert day["supply_reaching"] <= day["supply_total"] + 1
    assert set(comm["nursery_state"]) <= {"covered", "served_short", "gap"}
    gap = comm["nursery_state"] == "gap"
    assert (gap == ~comm["nursery_ok"]).all()
    assert any(w["code"] == "capacity_assumed" for w in demo_run.summary["warnings"])
    subs = block["by_subdistrict"]
    assert sum(v["elderly_daycare"]["need"] for v in subs.values()) == pytest.approx(
        day["need"], abs=1
    )


def test_priority_weighs_the_shortfall_when_asked():
    from spatial.analysis.bundles.priority import community_priorities, shortfall_share
    from spatial.config.project import PolicyConfig, PriorityConfig

    comm = _communities([100, 100], eligible=[True, True])
    comm = comm.assign(tier="standard", willingness=np.nan, infrastructure_deficit=np.nan,
                       funding_share=np.nan, gaps=0, nursery_need=[10.0, 10.0],
                       nursery_short=[0.0, 5.0], elderly_daycare_need=[20.0, 0.0],
                       elderly_daycare_short=[10.0, 0.0])  # fmt: skip
    assert shortfall_share(comm).tolist() == [0.5, 0.5]
    comm["elderly_daycare_short"] = 0.0
    weights = PriorityConfig(tier=0, gaps=0, willingness=0, infrastructure=0, funding=0)
    off = community_priorities(comm, weights, PolicyConfig())
    assert off["score"].tolist() == [0.0, 0.0]
    weights.shortfall = 10.0
    on = community_priorities(comm, weights, PolicyConfig())
    assert on["cid"].tolist() == ["C1", "C0"] and on["score"].tolist() == [10.0, 0.0]


def test_capacity_layer_text_is_escaped(demo_run):
    from spatial.outputs.html.overlays import capacity_layers

    payload = "{{ 7*7 }}<script>alert(1)</script>"
    demo_run.communities.loc[demo_run.communities.index[0], "name"] = payload
    unit = demo_run.summary["capacity"]["categories"]["nursery"]
    unit["supply_unit_en"], saved = payload, unit["supply_unit_en"]
    try:
        store, legend = capacity_layers(demo_run, "en")
    finally:
        unit["supply_unit_en"] = saved
    assert len(store) == len(legend) == len(demo_run.summary["capacity"]["categories"])
    page = repr(store) + repr(legend)
    assert "<script>alert(1)" not in page and "{{ 7*7 }}" not in page
    assert sum("&lt;script&gt;alert(1)" in e["tip"] for e in store) == 1  # the unit, escaped
    assert "Supply ratio: Nursery (0-3)" in [e["name"] for e in store]


def test_capacity_read_from_the_facility_list_end_to_end(tmp_path):
    from ..conftest import small_communities, small_facilities_csv

    small_communities().to_file(tmp_path / "communities.gpkg")
    csv = small_facilities_csv(tmp_path / "facilities.csv")
    frame = pd.read_csv(csv)
    frame["建筑面积"] = [60, np.nan]  # the day-care centre's floor area; the kindergarten has none
    frame["学位"] = [np.nan, 90]
    frame.to_csv(csv, index=False)
    (tmp_path / "project.toml").write_text(
        '[communities]\npath = "communities.gpkg"\n[facilities]\npath = "facilities.csv"\n'
        'coords = "gcj02"\n', "utf-8")  # fmt: skip
    result = pipeline.analyse(
        pipeline.load_inputs(load_project(tmp_path / "project.toml")), ["coverage"]
    )
    assert result.layers.facilities["floor_area"].tolist()[0] == 60
    comm, cap = result.communities, result.summary["capacity"]["categories"]
    # straight line × 1.3 from the compound-0 corner: 0, 130, 260, 390 m; radius 300 m.
    # 60 m² over 100 + 110 + 120 households = 18.18 m² per 100; all three are old: target 15
    assert comm["elderly_daycare_ratio"].tolist()[:3] == pytest.approx([1.212] * 3, abs=1e-3)
    assert comm["elderly_daycare_state"].tolist() == ["covered"] * 3 + ["gap"]
    assert comm["elderly_daycare_short"].iloc[3] == pytest.approx(130 * 20 / 100)  # 2010: new area
    assert cap["elderly_daycare"]["assumed_share"] == 0.0
    assert cap["kindergarten"]["supply_total"] == 90.0
    assert not comm["elderly_daycare_assumed"].any()
    codes = [w["code"] for w in result.summary["warnings"]]
    assert "capacity_assumed" not in codes  # both facilities have a capacity; no nursery at all


def test_bundle_totals_are_the_totals_over_each_bundles_members(demo_analysis):
    """Per bundle, the same figures as the per-subdistrict rule applied to its members."""
    from spatial.analysis.capacity.tables import _totals, bundle_totals

    result = demo_analysis(("coverage", "bundle"))
    comm, settings = result.communities, result.capacity.settings
    got = bundle_totals(comm, settings)
    ids = comm["bundle_id"].dropna().astype(str)
    assert sorted(got) == sorted(set(ids)) and len(got) == 19
    for bid, totals in got.items():
        assert totals == _totals(comm.loc[ids.index[ids == bid]], settings), bid
    assert result.summary["capacity"]["by_bundle"] == got
    assert sum(t["elderly_daycare"]["communities_gap"] for t in got.values()) > 0


def test_the_assumed_size_reads_as_whole_places(demo_run):
    """The standard's typical kindergarten (3,850 m² / 13 m² a place = 296.2) reads as 296
    places in the warning, not a fraction of a child's place."""
    [w] = [
        w
        for w in demo_run.summary["warnings"]
        if w["code"] == "capacity_assumed" and "幼儿园" in w["message"]
    ]
    assert "每处 296 个学位" in w["message"] and "296.2" not in w["message"]
