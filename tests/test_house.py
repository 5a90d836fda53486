"""Issue 16 (a house a newcomer can live in): the bundle description from the one catalogue, the
`[siting] kinds` filter, the one list of basemaps."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import shapely

from spatial.analysis.bundles.tables import describe
from spatial.analysis.siting.selector import SiteSelector
from spatial.config.project import PolicyConfig, Project, SitingConfig
from spatial.config.standards import load_standards
from spatial.core.messages import Joined, render

from .test_siting import _case


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


def test_basemap_choices_are_the_basemaps_file():
    from spatial.cli import main as cli
    from spatial.outputs.html import leaflet as render

    assert cli._basemap_names() == list(render.basemaps())
    assert {"osm", "gaode", "tianditu", "none"} <= set(cli._basemap_names())
