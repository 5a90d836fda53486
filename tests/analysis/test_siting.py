"""Candidate-land siting: reach distances, picks, capacity, before/after (the solvers: test_programmes)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.analysis.coverage.measure import compute_coverage
from spatial.analysis.siting.selector import SiteSelector, sites_summary
from spatial.config.project import CoverageConfig, Project, SitingConfig
from spatial.config.standards import load_standards
from spatial.core.messages import render
from spatial.network.reach import network_reach

from ..conftest import line_network


def _case():
    """A 3 km street; communities at 100, 900, 1400, 2600 m; one market at 0; parcels beside it."""
    net = line_network(list(range(0, 3001, 100)))
    comm = gpd.GeoDataFrame(
        {"cid": ["A", "B", "C", "D"], "name": list("ABCD"), "households": [100, 200, 300, 400],
         "subdistrict": ["s"] * 4},
        geometry=[shapely.box(x, 10, x + 60, 70) for x in (100, 900, 1400, 2600)], crs=4548,
    )  # fmt: skip
    fac = gpd.GeoDataFrame({"category": ["market"], "name": ["老菜市场"]},
                           geometry=[shapely.Point(0, -5)], crs=4548)  # fmt: skip
    parcels = gpd.GeoDataFrame(
        {"pid": ["P1", "P2", "P3"], "name": ["", "", ""], "kind": ["闲置用地", "旧厂区", "空置房屋"],
         "area_m2": [2000.0, 3000.0, 100.0], "max_floor_area": np.nan, "available": True},
        geometry=[shapely.box(1150, -60, 1190, -10), shapely.box(2700, -60, 2760, -10),
                  shapely.box(2500, -40, 2510, -30)], crs=4548,
    )  # fmt: skip
    project = Project()
    project.coverage.basket = ["market"]
    project.coverage.drop = [k for k in load_standards(Project()).categories if k != "market"]
    std = load_standards(project)
    comm = compute_coverage(comm, fac, std, project.coverage, net).communities
    return net, comm, parcels, std, project


def test_network_reach_distances_are_exact_on_a_line():
    net, comm, parcels, _, _ = _case()
    pairs = network_reach(net, parcels.geometry.values, comm.geometry.values, 500, CoverageConfig())
    got = {(int(p), int(c)): round(d, 3) for p, c, d in pairs.itertuples(index=False)}
    # P1 (1150-1190, 10 m below the street) to B (ends at 960, 10 m above): 10 + 190 + 10
    assert got[(0, 1)] == pytest.approx(210.0)
    # P1 to C (starts at 1400): 10 + 210 + 10
    assert got[(0, 2)] == pytest.approx(230.0)
    assert (0, 0) not in got and (0, 3) not in got


def test_selector_picks_the_parcel_that_covers_most_households():
    net, comm, parcels, std, project = _case()
    assert list(comm["market_ok"]) == [True, False, False, False]
    sel = SiteSelector(comm, parcels, std, SitingConfig(max_sites=5), project.coverage, net).solve()
    sites = sel.sites
    assert list(sites["pid"]) == ["P1", "P2"]  # P1: B+C = 500 households; P2: D = 400
    assert list(sites["new_households"]) == [500, 400]
    assert sites["covered_ids"].iloc[0] == "B,C"
    block = sel.per_category["market"]
    assert block["households_before"] == pytest.approx(0.1)
    assert block["households_after"] == pytest.approx(1.0)
    assert sel.full == {
        "households_before": pytest.approx(0.1),
        "households_after": pytest.approx(1.0),
        "communities_before": pytest.approx(0.25),  # 1 of the 4 compounds has a market
        "communities_after": pytest.approx(1.0),
    }
    assert sel.plan.status == "optimal" and sel.exact.value.households == 900
    assert sel.greedy.value.households == 900
    assert sel.unserved.empty
    progs = sel.programmes.set_index("pid")
    assert progs.loc["P3", "reason_code"] == "too_small"  # 100 m² × 1.5 < a market's 750 m²
    assert render(progs.loc["P1", "facilities"], "zh") == "菜市场或生鲜超市"
    assert progs.loc["P1", "floor_used_m2"] == 750.0 and progs.loc["P1", "floor_m2"] == 3000.0


def test_parcel_too_small_is_not_used_and_unserved_are_listed():
    net, comm, parcels, std, project = _case()
    parcels = parcels.iloc[[0, 2]]  # drop the big P2; P3 (100 m²) is too small for a market
    sel = SiteSelector(comm, parcels, std, SitingConfig(), project.coverage, net).solve()
    assert list(sel.sites["pid"]) == ["P1"]
    assert list(sel.unserved["cid"]) == ["D"]
    assert sel.unserved["reason"].iloc[0] == "周边无足够面积的候选用地"


def test_budget_category_without_gaps_and_far_parcels():
    net, comm, parcels, std, project = _case()
    far = parcels.iloc[[0]].copy()
    far["pid"] = "FAR"
    far.geometry = [shapely.box(50_000, 0, 50_100, 100)]
    parcels = gpd.GeoDataFrame(__import__("pandas").concat([parcels, far]), crs=4548)
    sel = SiteSelector(comm, parcels, std, SitingConfig(max_sites=1), project.coverage, net).solve()
    assert list(sel.sites["pid"]) == ["P1"]
    assert any("outside the study area" in n.render("en") for n in sel.notes)
    covered = comm.assign(market_ok=True)
    sel = SiteSelector(covered, parcels, std, SitingConfig(), project.coverage, net).solve()
    assert sel.per_category["market"]["method"] == "no gaps" and len(sel.sites) == 0
    assert sites_summary(sel)["count"] == 0


def test_straight_line_fallback():
    _, comm, parcels, std, project = _case()
    sel = SiteSelector(comm, parcels, std, SitingConfig(), project.coverage, None).solve()
    assert set(sel.sites["pid"]) == {"P1", "P2"}


@pytest.mark.slow
def test_sites_command_writes_layer(run_cli, tmp_path):
    code, _, err = run_cli("sites", "--out", tmp_path)
    assert code == 0, err
    sites = gpd.read_file(tmp_path / "lifecircle.gpkg", layer="sites")
    assert len(sites) > 0 and (sites["new_households"] > 0).all()
    assert set(sites["category"]) <= set(load_standards(Project()).categories)


@pytest.mark.slow
def test_reach_agrees_with_networkx_on_the_demo_district():
    """Parcel → community distances from the scipy batch equal networkx shortest paths through the
    same access links (virtual parcel and community nodes) on the demo's real-size network."""
    import networkx as nx

    from spatial.config.project import load_project
    from spatial.inputs.load import load_layers
    from spatial.network.access_points import polygon_access
    from spatial.network.read import read_network

    project = load_project(None)
    layers = load_layers(project, load_standards(project))
    net = read_network(project.resolve(project.network.path), layers.crs)
    parcels = layers.parcels.geometry.values[:6]
    comms = layers.communities.geometry.values
    cfg = project.coverage
    pairs = network_reach(net, parcels, comms, 500, cfg)
    graph = nx.Graph()
    for u, v, w in net.edges[["u", "v", "length"]].itertuples(index=False):
        graph.add_edge(int(u), int(v), weight=float(w))
    p_acc = polygon_access(net, parcels, cfg.access_spacing_m, cfg.max_snap_m)
    c_acc = polygon_access(net, comms, cfg.access_spacing_m, cfg.max_snap_m)
    for p in range(len(parcels)):
        sources = {}
        for node, extra in zip(
            p_acc.node[p_acc.node_owner == p], p_acc.extra[p_acc.node_owner == p], strict=True
        ):
            sources[int(node)] = min(extra, sources.get(int(node), np.inf))
        graph.add_node("P")
        graph.add_weighted_edges_from([("P", n, max(e, 1e-6)) for n, e in sources.items()])
        dist = nx.single_source_dijkstra_path_length(graph, "P", cutoff=500)
        graph.remove_node("P")
        expected = {}
        for c, node, extra in zip(c_acc.node_owner, c_acc.node, c_acc.extra, strict=True):
            if int(node) in dist and dist[int(node)] + extra <= 500:
                expected[int(c)] = min(expected.get(int(c), np.inf), dist[int(node)] + extra)
        got = pairs.loc[pairs["parcel"] == p].set_index("community")["distance_m"].to_dict()
        touching = set(shapely.STRtree(comms).query(parcels[p], predicate="intersects").tolist())
        assert set(got) == set(expected) | touching
        for c, d in expected.items():
            assert got[c] == pytest.approx(0.0 if c in touching else d, abs=1e-6)


def test_pipeline_shares_access_points_with_siting_and_picks_the_same_sites(demo_analysis):
    """The run computes the communities' access points once; siting given them picks exactly
    what it picks when it snaps the outlines itself."""
    from spatial.analysis.siting.selector import SiteSelector
    from spatial.config.indicators import load_capacity

    result = demo_analysis(["coverage", "sites"], basemap=None)
    project = result.project
    capacity = load_capacity(project, result.standards)  # sizes from the same shortfall
    again = SiteSelector(result.communities, result.layers.parcels, result.standards,
                         project.siting, project.coverage, result.network,
                         capacity=capacity).solve()  # fmt: skip
    shared = result.siting.sites
    assert len(shared) > 0
    cols = ["category", "pid", "new_households", "covered_ids"]
    assert shared[cols].reset_index(drop=True).equals(again.sites[cols].reset_index(drop=True))


def test_siting_kinds_keeps_other_parcels_out():
    """`[siting] kinds`: only parcels of these kinds are candidates; the others say why."""
    net, comm, parcels, std, project = _case()
    everything = SiteSelector(comm, parcels, std, SitingConfig(), project.coverage, net).solve()
    assert list(everything.sites["pid"]) == ["P1", "P2"]
    cfg = SitingConfig(kinds=["旧厂区"])
    sel = SiteSelector(comm, parcels, std, cfg, project.coverage, net).solve()
    assert list(sel.sites["pid"]) == ["P2"]  # P1 (闲置用地) would have served B and C
    reasons = sel.programmes.set_index("pid")["reason_code"]
    assert reasons["P1"] == "kind_not_allowed" and reasons["P3"] == "kind_not_allowed"
    assert sorted(sel.unserved["cid"]) == ["B", "C"]
