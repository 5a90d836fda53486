"""Eligibility, adjacency on hand-built polygons, bundling limits, partners and the priority list."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.analysis.bundles.adjacency import adjacent_pairs
from spatial.analysis.bundles.eligibility import assess_eligibility
from spatial.analysis.bundles.groups import Bundler
from spatial.analysis.bundles.priority import community_priorities
from spatial.analysis.bundles.tables import bundle_frame, describe
from spatial.config.project import (
    BundlingConfig,
    PolicyConfig,
    PriorityConfig,
    Project,
)
from spatial.config.standards import load_standards
from spatial.core.messages import Joined, render, render_frame


def _frame(polys, years=None, households=None, **extra) -> gpd.GeoDataFrame:
    n = len(polys)
    years = years if years is not None else [1990] * n
    lo = [np.nan if y is None else (y[0] if isinstance(y, tuple) else y) for y in years]
    hi = [np.nan if y is None else (y[1] if isinstance(y, tuple) else y) for y in years]
    data = {
        "cid": [f"C{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)],
        "subdistrict": extra.pop("subdistrict", ["甲"] * n), "built_raw": [str(y) for y in years],
        "built_year_min": lo, "built_year_max": hi, "households": households or [100] * n,
        "floor_area": [5000.0] * n, "willingness": [0.8] * n, "infrastructure_deficit": np.nan,
        "funding_share": np.nan, **extra,
    }  # fmt: skip
    return gpd.GeoDataFrame(data, geometry=list(polys), crs=4548)


# four squares in a row: A-B touch, B-C 20 m apart, C-D 80 m apart
ROW = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(220, 0, 320, 100),
       shapely.box(400, 0, 500, 100)]  # fmt: skip


def _pairs(polys, tol=30.0, barriers=None):
    out = adjacent_pairs(np.array(polys, dtype=object), tol, barriers)
    return {
        (int(i), int(j)) for i, j, b in out[["i", "j", "blocked"]].itertuples(index=False) if not b
    }


def test_touching_near_and_far():
    assert _pairs(ROW) == {(0, 1), (1, 2)}
    assert _pairs(ROW, tol=10) == {(0, 1)}
    assert _pairs(ROW, tol=80) == {(0, 1), (1, 2), (2, 3)}


def test_road_between_near_communities_blocks_adjacency():
    road = np.array([shapely.LineString([(210, -50), (210, 150)])], dtype=object)
    assert _pairs(ROW, barriers=road) == {(0, 1)}
    # a road that ends before the gap does not separate them
    stub = np.array([shapely.LineString([(210, 150), (210, 300)])], dtype=object)
    assert _pairs(ROW, barriers=stub) == {(0, 1), (1, 2)}


@pytest.mark.slow
@pytest.mark.parametrize("tol", [0.5, 15.0, 30.0, 90.0])
def test_agrees_with_libpysal_fuzzy_contiguity(tol):
    from libpysal.weights import fuzzy_contiguity

    rng = np.random.default_rng(4)
    polys = []
    for _ in range(60):
        x, y = rng.uniform(0, 1500, 2)
        w, h = rng.uniform(40, 160, 2)
        polys.append(shapely.box(x, y, x + w, y + h))
    frame = gpd.GeoDataFrame(geometry=polys, crs=4548)
    w = fuzzy_contiguity(frame, buffering=True, buffer=tol / 2, tolerance=0)
    theirs = {(min(i, j), max(i, j)) for i, nbrs in w.neighbors.items() for j in nbrs}
    assert len(theirs) > 5
    assert _pairs(polys, tol=tol) == theirs


def test_eligibility_tiers_and_reasons():
    years = [1995, 2003, (1990, 1999), (2000, 2009), None, 2010, 2000]
    frame = _frame([shapely.box(i * 200, 0, i * 200 + 100, 100) for i in range(7)], years,
                   拟征收=["否"] * 6 + ["是"])  # fmt: skip
    policy = PolicyConfig(exclude_column="拟征收", exclude_values=["是"])
    out = assess_eligibility(frame, policy)
    assert list(out["tier"]) == ["priority", "standard", "priority", "unknown", "unknown",
                                 "not_eligible", "not_eligible"]  # fmt: skip
    assert list(out["eligible"]) == [True, True, True, False, False, False, False]
    assert "征收" in render(out["eligibility_reason"].iloc[6], "zh")
    assert "不详" in render(out["eligibility_reason"].iloc[4], "zh")
    # Linyi 2016: cut-off 1995
    linyi = assess_eligibility(frame, PolicyConfig(old_cutoff=dt.date(1995, 12, 31),
                                                   priority_cutoff=dt.date(1990, 12, 31)))  # fmt: skip
    assert list(linyi["tier"])[:3] == ["standard", "not_eligible", "unknown"]


def _bundles(frame, cfg=None, parcels=None, barriers=None):
    frame = assess_eligibility(frame, PolicyConfig())
    b = Bundler(
        frame, cfg or BundlingConfig(), barriers if barriers is not None else np.array([])
    ).solve()
    parcels = parcels if parcels is not None else gpd.GeoDataFrame(
        {"pid": [], "kind": []}, geometry=[], crs=4548)  # fmt: skip
    bundles, ids = bundle_frame(b, parcels, load_standards(Project()), 4548)
    return b, bundles, ids


def test_bundles_are_connected_eligible_groups():
    frame = _frame(ROW, [1990, 1992, 1994, 1996])
    _, bundles, ids = _bundles(frame)
    assert len(bundles) == 1
    assert bundles["member_ids"].iloc[0] == "C0,C1,C2"
    assert list(ids.iloc[:3]) == ["B01", "B01", "B01"] and pd.isna(ids.iloc[3])
    assert bundles["households"].iloc[0] == 300
    description = render(bundles["description"].iloc[0], "zh")
    assert "B01片区" in description and "300户" in description


def test_ineligible_member_breaks_the_chain():
    frame = _frame(ROW, [1990, 2012, 1994, 1996])
    _, bundles, _ = _bundles(frame)
    assert len(bundles) == 0  # A alone, C alone: a bundle needs two members


def test_household_limit_splits_into_contiguous_compact_parts():
    grid = [
        shapely.box(i * 100, j * 100, i * 100 + 100, j * 100 + 100)
        for j in range(3)
        for i in range(4)
    ]
    frame = _frame(grid, households=[500] * 12)
    _, bundles, ids = _bundles(frame, BundlingConfig(max_households=2000))
    assert (bundles["households"] <= 2000).all()
    assert bundles["members"].sum() == 12 and len(bundles) == 3
    for members in bundles["member_ids"]:
        idx = [int(c[1:]) for c in members.split(",")]
        assert shapely.union_all([grid[k] for k in idx]).geom_type == "Polygon"  # contiguous
    # deterministic
    _, again, _ = _bundles(frame, BundlingConfig(max_households=2000))
    assert list(again["member_ids"]) == list(bundles["member_ids"])


def test_span_limit():
    strip = [shapely.box(i * 100, 0, i * 100 + 100, 100) for i in range(12)]
    _, bundles, _ = _bundles(_frame(strip), BundlingConfig(max_span_m=450))
    assert (bundles["span_m"] <= 450).all() and bundles["members"].sum() == 12


def test_partner_parcels_attached_by_kind():
    parcels = gpd.GeoDataFrame(
        {"pid": ["P1", "P2", "P3"], "kind": ["旧厂区", "闲置用地", "棚户区"]},
        geometry=[shapely.box(0, 110, 100, 200), shapely.box(100, 105, 150, 150),
                  shapely.box(0, 600, 100, 700)], crs=4548,
    )  # fmt: skip
    _, bundles, _ = _bundles(_frame(ROW[:2]), parcels=parcels)
    assert bundles["partner_parcels"].iloc[0] == "P1"  # near and of a redevelopment kind
    assert bundles["candidate_parcels"].iloc[0] == "P2"
    assert "旧厂区" in render(bundles["description"].iloc[0], "zh") and "统筹平衡" in render(
        bundles["description"].iloc[0], "zh"
    )


def test_overlaps_reported_and_duplicates_counted_once():
    polys = [ROW[0], shapely.box(5, 5, 100, 100), ROW[1]]
    b, bundles, _ = _bundles(_frame(polys, households=[100, 100, 50]))
    assert len(b.overlaps) >= 1 and b.duplicates == [1]
    assert bundles["households"].iloc[0] == 150


@pytest.mark.parametrize("case", ["no_years", "single", "all_ineligible"])
def test_degenerate_inputs_give_valid_empty_results(case):
    if case == "no_years":
        frame = _frame(ROW, [None] * 4)
    elif case == "single":
        frame = _frame(ROW[:1])
    else:
        frame = _frame(ROW, [2010] * 4)
    b, bundles, ids = _bundles(frame)
    assert len(bundles) == 0 and ids.isna().all()
    assert [n.key for n in b.notes] == ["note_bundle_too_few"]


def test_priority_scores_show_their_parts():
    frame = _frame(ROW, [1990, 2003, 1994, 1996], households=[100, 400, 200, 50])
    frame["gaps"] = [4, 2, 0, 1]
    frame["willingness"] = [0.9, 0.5, 0.95, np.nan]
    frame["bundle_id"] = pd.NA
    out = community_priorities(
        assess_eligibility(frame, PolicyConfig()), PriorityConfig(), PolicyConfig()
    )
    parts = [c for c in out.columns if c.startswith("score_")]
    assert np.allclose(out[parts].sum(axis=1), out["score"], atol=0.05)
    top = out.iloc[0]
    assert top["cid"] == "C0"  # priority tier, 400 gap-households, 90 % willing
    flags = render_frame(out, "zh").set_index("cid")["willingness_flag"]
    assert (flags["C1"], flags["C3"]) == ("意愿不足2/3", "意愿未调查")
    assert "2000年底前建成" in render(top["reasons"], "zh")
    assert list(out["rank"]) == [1, 2, 3, 4]


def _bundle() -> tuple[dict, gpd.GeoDataFrame]:
    row = {
        "bundle_id": "B01",
        "members": 4,
        "subdistricts": Joined(("东城街道",)),
        "households": 1200,
        "floor_area_m2": 15000.0,
        "built_from": 1990,
        "built_to": 1998,
        "priority_members": 2,
        "partner_parcels": "P1",
        "partner_kinds": Joined(("旧厂区",)),
        "candidate_parcels": "P2",
    }
    members = gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "households": [300] * 4},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)],
    )
    return row, members


def test_bundle_description_in_both_languages_names_the_policys_year():
    row, members = _bundle()
    std = load_standards(Project())
    policy = PolicyConfig(priority_cutoff=dt.date(1995, 12, 31))  # Linyi 2016
    line = describe(row, members, std, ["market"], policy)
    assert render(line, "zh") == (
        "B01片区（东城街道）：甲、乙、丙等4个小区，共1,200户、建筑面积1.5万㎡，建成于1990—1998年"
        "（其中1995年底前建成2个）；共同缺少菜市场或生鲜超市；可与相邻旧厂区（P1）统筹平衡；"
        "周边可挖潜用地P2。"
    )
    assert render(line, "en") == (
        "B01: 4 communities (东城街道), 1,200 households, floor area 15,000 m², built 1990–1998"
        " (2 built by end 1995); all lack Fresh market; financing partners P1 (旧厂区);"
        " candidate land nearby P2."
    )


def test_bundle_description_leaves_out_what_is_not_known():
    row, members = _bundle()
    row |= {"members": 3, "subdistricts": Joined(()), "floor_area_m2": 800.0, "built_from": None,
            "priority_members": 0, "partner_parcels": "", "candidate_parcels": ""}  # fmt: skip
    members = members.assign(households=float("nan")).iloc[:3]
    line = describe(row, members, load_standards(Project()), [])
    assert render(line, "zh") == "B01片区：甲、乙、丙、建筑面积800㎡。"
    assert render(line, "en") == "B01: 3 communities, floor area 800 m²."
