"""The capacity shortfall sizes the sited facilities (issue 15 into issue 13's programmes).

Elderly day care on a straight street: indicator 20 m² floor per 100 households (no community is
old, so the new-area target applies), standard size 350–750 m² floor, a shared facility (floor
only), radius 300 m. Gap communities have no supply within reach, so each one's shortfall is
0.2 m² × households, and a facility is sized for the shortfall of the gap communities it newly
serves.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import sparse

from spatial.analysis.capacity.sizing import SizeRule, size_facilities
from spatial.analysis.capacity.twostep import run_capacity
from spatial.analysis.coverage.measure import compute_coverage, polygon_access
from spatial.analysis.siting.milp import exact_plan
from spatial.analysis.siting.programmes import Instance, feasible, greedy_plan
from spatial.analysis.siting.selector import SiteSelector, sites_summary
from spatial.config.project import Project, SitingConfig
from spatial.config.standards import load_standards
from spatial.core.messages import render, render_frame

from ..conftest import line_network

DAYCARE = "老年人日间照料中心"


def _select(hh_b, hh_c, area_p1, hh_d=None, size_from_shortfall=True):
    """A (x 100, 100 households) has a day-care centre at x 0; B (x 900), C (x 1200) and D
    (x 1500, when ``hh_d``) lack one. Parcel P1 (x 1050–1090) reaches B (110 m) and C (130 m);
    P2 (x 1350–1390, with D) reaches C (110 m) and D (130 m)."""
    net = line_network(list(range(0, 3001, 100)))
    xs, hh = [100, 900, 1200], [100, hh_b, hh_c]
    if hh_d is not None:
        xs, hh = [*xs, 1500], [*hh, hh_d]
    comm = gpd.GeoDataFrame(
        {"cid": list("ABCD")[: len(xs)], "name": list("ABCD")[: len(xs)], "households": hh,
         "subdistrict": "s"},
        geometry=[shapely.box(x, 10, x + 60, 70) for x in xs], crs=4548,
    )  # fmt: skip
    fac = gpd.GeoDataFrame({"category": ["elderly_daycare"], "name": ["老日照"]},
                           geometry=[shapely.Point(0, -5)], crs=4548)  # fmt: skip
    boxes = [shapely.box(1050, -60, 1090, -10), shapely.box(1350, -60, 1390, -10)]
    n_p = 2 if hh_d is not None else 1
    parcels = gpd.GeoDataFrame(
        {"pid": ["P1", "P2"][:n_p], "name": "", "kind": "闲置用地",
         "area_m2": [float(area_p1), 2000.0][:n_p], "max_floor_area": np.nan, "available": True},
        geometry=boxes[:n_p], crs=4548,
    )  # fmt: skip
    project = Project()
    project.coverage.basket = ["elderly_daycare"]
    std0 = load_standards(Project())
    project.coverage.drop = [k for k in std0.categories if k != "elderly_daycare"]
    std = load_standards(project)
    cov = project.coverage
    access = polygon_access(net, comm.geometry.values, cov.access_spacing_m, cov.max_snap_m)
    comm = compute_coverage(comm, fac, std, cov, net, access).communities
    comm, _, _, capacity = run_capacity(comm, fac, std, project, net, access)
    cfg = SitingConfig(size_from_shortfall=size_from_shortfall)
    sel = SiteSelector(comm, parcels, std, cfg, cov, net, access, capacity=capacity).solve()
    return comm, sel


def _site(sel, pid):
    return sel.sites.set_index("pid").loc[pid]


def test_shortfall_makes_the_facility_larger_than_the_standard_minimum():
    comm, sel = _select(hh_b=1500, hh_c=1000, area_p1=2000)
    # the capacity stage's shortfall: 20 m² per 100 households, nothing within reach
    assert list(comm["elderly_daycare_short"]) == [0.0, 300.0, 200.0]
    site = _site(sel, "P1")
    assert site["covered_ids"] == "B,C"
    assert (site["floor_used_m2"], site["land_used_m2"]) == (500.0, 0.0)  # 300 + 200 > 350
    assert site["size_basis"] == "shortfall" and render(site["supply_unit"], "zh") == "平方米"
    assert (site["shortfall_units"], site["size_units"]) == (500.0, 500.0)
    assert (site["shortfall_closed"], site["shortfall_left"]) == (500.0, 0.0)
    prog = render_frame(sel.programmes, "zh").set_index("pid").loc["P1"]
    assert prog["floor_used_m2"] == 500.0 and prog["floor_m2"] == 3000.0
    assert prog["sized_from_shortfall"] == DAYCARE
    assert prog["shortfall_closed"] == f"{DAYCARE} 500平方米" and prog["shortfall_left"] == ""
    block = sites_summary(sel)["sizing"]
    assert (block["sites_from_shortfall"], block["sites_standard_min"]) == (1, 0)
    cat = block["by_category"]["elderly_daycare"]
    assert cat["basis"] == {"standard_min": 0, "shortfall": 1, "parcel_limit": 0, "standard_max": 0}
    assert (cat["shortfall"], cat["closed"], cat["left"], cat["floor_m2"]) == (500, 500, 0, 500)


def test_facility_that_does_not_fit_is_sited_at_the_size_the_parcel_holds():
    # P1: 300 m² land × FAR 1.5 = 450 m² floor: holds the 350 m² minimum, not the 500 m² needed
    _, sel = _select(hh_b=1500, hh_c=1000, area_p1=300)
    site = _site(sel, "P1")
    assert (site["floor_used_m2"], site["size_basis"]) == (450.0, "parcel_limit")
    assert (site["shortfall_units"], site["shortfall_closed"], site["shortfall_left"]) == (
        500.0, 450.0, 50.0,
    )  # fmt: skip
    prog = sel.programmes.set_index("pid").loc["P1"]
    assert (prog["floor_used_m2"], prog["floor_m2"]) == (450.0, 450.0)
    assert render(prog["shortfall_left"], "zh") == f"{DAYCARE} 50平方米"
    assert sites_summary(sel)["sizing"]["by_category"]["elderly_daycare"]["left"] == 50.0


def test_shortfall_below_the_minimum_keeps_the_standard_minimum():
    _, sel = _select(hh_b=1000, hh_c=500, area_p1=2000)  # 200 + 100 = 300 m² < 350 m²
    site = _site(sel, "P1")
    assert (site["floor_used_m2"], site["size_basis"]) == (350.0, "standard_min")
    assert (site["shortfall_units"], site["size_units"]) == (300.0, 350.0)
    assert (site["shortfall_closed"], site["shortfall_left"]) == (300.0, 0.0)
    assert render(sel.programmes.set_index("pid").loc["P1", "sized_from_shortfall"], "zh") == ""
    assert sites_summary(sel)["sizing"]["sites_standard_min"] == 1


def test_standard_maximum_caps_the_size_and_reports_the_rest():
    _, sel = _select(hh_b=3000, hh_c=1500, area_p1=2000)  # 600 + 300 = 900 m² > 750 m²
    site = _site(sel, "P1")
    assert (site["floor_used_m2"], site["size_basis"]) == (750.0, "standard_max")
    assert (site["shortfall_closed"], site["shortfall_left"]) == (750.0, 150.0)


def test_setting_off_gives_the_standard_minimum():
    _, sel = _select(hh_b=1500, hh_c=1000, area_p1=2000, size_from_shortfall=False)
    site = _site(sel, "P1")
    assert (site["floor_used_m2"], site["size_basis"]) == (350.0, "standard_min")
    assert np.isnan(site["shortfall_units"])
    block = sites_summary(sel)["sizing"]
    assert block["size_from_shortfall"] is False and block["categories_sized"] == []


def test_a_community_reached_by_two_sites_sizes_only_the_one_credited_with_it():
    # B 1500 (300 m²), C 1000 (200 m²), D 1250 (250 m²); P1 reaches B, C; P2 reaches C, D.
    # Both are needed; P1 ranks first (2,500 households) and is credited with C, so P2 is sized
    # for D alone: 250 m² → the 350 m² minimum (it was reserved 450 m² in the solve).
    _, sel = _select(hh_b=1500, hh_c=1000, area_p1=2000, hh_d=1250)
    p1, p2 = _site(sel, "P1"), _site(sel, "P2")
    assert (p1["covered_ids"], p2["covered_ids"]) == ("B,C", "D")
    assert (p1["floor_used_m2"], p1["size_basis"]) == (500.0, "shortfall")
    assert (p2["floor_used_m2"], p2["size_basis"], p2["shortfall_units"]) == (
        350.0, "standard_min", 250.0,
    )  # fmt: skip


def test_option_sizes_feed_the_parcel_capacity_constraints():
    """Two shared facilities on one parcel of 900 m² floor: at 350 m² each both fit; sized
    500 m² each (fixed per option before the solve) only one does, in both solvers."""
    cover = sparse.csr_matrix(np.array([[1, 0], [0, 1]], bool))
    base = dict(
        keys=["a", "b"], hh=np.array([100.0, 80.0]), gap=np.eye(2, dtype=bool),
        basket_gaps=np.ones(2, int), in_basket=np.ones(2, bool), weight=np.ones(2),
        opt_parcel=np.zeros(2, int), opt_key=np.arange(2), cover=cover,
        land=np.array([0.0]), floor=np.array([900.0]), need_land=np.zeros(2),
        need_floor=np.array([350.0, 350.0]), own=np.zeros(2, bool), max_sites=5,
    )  # fmt: skip
    small = Instance(**base)
    assert list(exact_plan(small, "households").chosen) == [0, 1]
    sized = Instance(**base, opt_floor=np.array([500.0, 500.0]))
    assert not feasible(sized, np.array([0, 1]))
    for plan in (exact_plan(sized, "households"), greedy_plan(sized, "households")):
        assert list(plan.chosen) == [0] and plan.value.households == 100.0


def test_land_and_floor_scale_together_for_own_land_facilities():
    """A nursing home (35 m² floor and 17.5 m² land per bed, 7,000–17,500 m² floor,
    3,500–22,000 m² land): 300 beds → 10,500 m² floor and 5,250 m² land; on a parcel of 4,200 m²
    land it holds 240 beds (land-limited), the 60 left reported."""
    rule = SizeRule("nursing_home", 7000, 17500, 3500, 22000, 35.0, 17.5, "张床位", "beds")
    got = size_facilities(rule, np.array([300.0, 300.0, 150.0]), np.array([9000.0, 4200.0, 9000.0]),
                          np.full(3, 1e9))  # fmt: skip
    assert list(got.floor) == pytest.approx([10500, 8400, 7000])
    assert list(got.land) == pytest.approx([5250, 4200, 3500])
    assert list(got.units) == pytest.approx([300, 240, 200])
    assert list(got.left) == pytest.approx([0, 60, 0])
    assert list(got.basis) == ["shortfall", "parcel_limit", "standard_min"]
