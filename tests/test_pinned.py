"""Behaviour pinned to exact values: defaults, the demo's summary, reference coordinate pairs and
README promises that had no test of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatial.config.project import load_project
from spatial.config.standards import load_standards
from spatial.core import settings
from spatial.outputs.html.contents import metres_per_minute


def _project(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('[communities]\npath = "c.gpkg"\n' + text, encoding="utf-8")
    return path


def _standards_copy(tmp_path: Path, speed: str) -> Path:
    text = (settings.STANDARDS_DIR / "gb50180_2018.toml").read_text(encoding="utf-8")
    assert "walk_speed_kmh = 4.0\n" in text
    path = tmp_path / "my_standards.toml"
    path.write_text(text.replace("walk_speed_kmh = 4.0\n", f"walk_speed_kmh = {speed}\n"), "utf-8")
    return path


def _minutes_shown(project, std) -> str:
    """The minutes the map page shows for a community 1000 m from a market."""
    return f"1000 m / {round(1000 / metres_per_minute(std))} "


def test_standards_file_walk_speed_changes_the_minutes_shown(tmp_path):
    """One rule: project file, else standards file, else settings (5 km/h: 1000 m = 12 min)."""
    _standards_copy(tmp_path, "5.0")
    project = load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    assert project.coverage.walk_speed_kmh is None
    std = load_standards(project)
    assert std.walk_speed_kmh == 5.0
    assert std.minutes(1000) == pytest.approx(12.0)
    assert "1000 m / 12 " in _minutes_shown(project, std)
    default = load_project(_project(tmp_path, ""))
    assert "1000 m / 15 " in _minutes_shown(default, load_standards(default))


def test_project_walk_speed_wins_over_the_standards_file(tmp_path):
    _standards_copy(tmp_path, "5.0")
    text = '[standards]\npath = "my_standards.toml"\n[coverage]\nwalk_speed_kmh = 3\n'
    std = load_standards(load_project(_project(tmp_path, text)))
    assert std.walk_speed_kmh == 3.0 and std.minutes(1000) == pytest.approx(20.0)


def test_standards_file_without_walk_speed_takes_settings(tmp_path):
    path = _standards_copy(tmp_path, "5.0")
    path.write_text(path.read_text("utf-8").replace("walk_speed_kmh = 5.0\n", ""), "utf-8")
    std = load_standards(
        load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    )
    assert std.walk_speed_kmh == settings.WALK_SPEED_KMH


def test_standards_file_bad_walk_speed_is_named(tmp_path):
    from spatial.core.errors import ConfigError

    _standards_copy(tmp_path, "-1")
    project = load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    with pytest.raises(ConfigError, match="walk_speed_kmh = -1"):
        load_standards(project)


# -- the demo's summary: golden values ---------------------------------------------------------
# GOLDEN VALUES: exact figures from a run of the embedded demo (seeded), a regression snapshot,
# not a proof of correctness. A change here is a change in results: explain it in the commit that
# updates the numbers. Beside each family, an independent check recomputes the same figures from
# the analysed rows (distances against the standard's radius, tiers, bundle members, picks), so
# a wrong aggregation fails even when the golden values are updated with it.


@pytest.fixture(scope="module")
def demo_summary(demo_analysis, tmp_path_factory) -> dict:
    from spatial.workflow.pipeline import write_outputs

    result = demo_analysis(("coverage", "bundle", "sites"), basemap=None)
    out = tmp_path_factory.mktemp("pinned") / "out"
    write_outputs(result, out, ("coverage", "bundle", "sites"), "zh")
    return json.loads((out / "summary.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def demo_rows(demo_analysis):
    """The analysis behind ``demo_summary``: its rows, for the independent checks."""
    return demo_analysis(("coverage", "bundle", "sites"), basemap=None)


def test_demo_counts_and_tiers_pinned(demo_summary, demo_rows):
    s = demo_summary
    assert (s["communities"], s["households"], s["old_communities"]) == (134, 44674, 102)
    assert (s["facilities"], s["parcels"], s["unknown_categories"]) == (207, 45, {"银行": 3})
    assert (s["network"]["nodes"], s["network"]["edges"]) == (3715, 4120)
    elig = s["eligibility"]
    assert elig["by_tier"] == {"priority": 83, "standard": 16, "not_eligible": 30, "unknown": 5}
    assert elig["households_by_tier"] == {
        "priority": 29233, "standard": 4117, "not_eligible": 9192, "unknown": 2132,
    }  # fmt: skip
    assert (elig["eligible"], elig["below_willingness"]) == (99, 58)
    comm = demo_rows.communities  # independent: the same figures counted from the rows
    assert (len(comm), comm["households"].sum()) == (s["communities"], s["households"])
    assert comm["tier"].value_counts().to_dict() == elig["by_tier"]
    assert comm.groupby("tier")["households"].sum().to_dict() == elig["households_by_tier"]


def test_demo_coverage_pinned(demo_summary, demo_rows):
    cov = demo_summary["coverage"]
    shares = {k: (v["communities"], v["households"]) for k, v in cov["categories"].items()}
    assert shares == {
        "elderly_daycare": (0.4552, 0.5514), "nursing_home": (0.4403, 0.4904),
        "nursery": (0.4328, 0.4893), "kindergarten": (0.5522, 0.5928),
        "health_station": (0.6045, 0.6167), "health_center": (0.791, 0.7871),
        "market": (0.7239, 0.7523), "convenience": (0.9179, 0.9571),
        "community_service": (0.4552, 0.5125), "fitness": (0.4552, 0.4703),
        "culture": (0.3582, 0.412), "primary_school": (0.306, 0.3086),
        "middle_school": (0.4104, 0.4443),
    }  # fmt: skip
    assert (cov["full_coverage_communities"], cov["full_coverage_households"]) == (0.0373, 0.0689)
    assert cov["gap_to_target"] == 0.7811
    assert (cov["facilities_off_network"], cov["communities_off_network"]) == (0, 0)
    assert cov["distance_mode"] == "network"
    comm = demo_rows.communities  # independent: each distance against the standard's radius
    households = comm["households"]
    for key, category in demo_rows.standards.categories.items():
        reached = comm[f"{key}_m"] <= category.radius_m
        assert (reached == comm[f"{key}_ok"]).all(), key
        share = (round(reached.mean(), 4), round(households[reached].sum() / households.sum(), 4))
        assert share == shares[key], key
    everything = comm[[f"{k}_ok" for k in cov["basket"]]].all(axis=1)  # the basket's categories
    assert round(everything.mean(), 4) == cov["full_coverage_communities"]


def test_demo_bundles_and_priority_pinned(demo_summary, demo_rows):
    b = demo_summary["bundles"]
    assert (b["count"], b["communities"], b["households"]) == (19, 88, 30705)
    assert (b["adjacent_pairs"], b["pairs_blocked_by_barriers"]) == (93, 0)
    assert (b["pairs_split_by_subdistrict"], b["with_partner_parcels"]) == (0, 1)
    assert b["overlapping_communities"] == [] and b["duplicates_counted_once"] == []
    top = demo_summary["priority"]
    assert top["top_communities"][0]["cid"] == "LS005"
    assert [r["bundle_id"] for r in top["top_bundles"]] == [
        "B01", "B02", "B03", "B11", "B07", "B06", "B14", "B08", "B18", "B10",
    ]  # fmt: skip
    comm = demo_rows.communities  # independent: the bundles' members counted from the rows
    members = comm["bundle_id"].notna()
    assert len(demo_rows.bundling.bundles) == comm.loc[members, "bundle_id"].nunique() == b["count"]
    assert (members.sum(), comm.loc[members, "households"].sum()) == (
        b["communities"], b["households"],
    )  # fmt: skip


def test_demo_sites_pinned(demo_summary, demo_rows):
    """The siting block on its own: parcel programmes (exact MILP, full-coverage objective)."""
    s = demo_summary["sites"]
    assert (s["count"], s["needs_other_measures"]) == (53, 83)
    assert (s["status"], s["objective"]) == ("optimal", "full_coverage")
    assert (s["full_coverage_households_before"], s["full_coverage_households_after"]) == (
        0.0689, 0.476,
    )  # fmt: skip
    after = {k: (v["households_after"], v["picks"]) for k, v in s["by_category"].items()}
    assert after == {
        "elderly_daycare": (0.8059, 5), "nursing_home": (0.8866, 4), "nursery": (0.7345, 5),
        "kindergarten": (0.7446, 4), "health_station": (0.8393, 5), "health_center": (1.0, 4),
        "market": (0.9889, 5), "convenience": (0.9978, 5), "community_service": (0.7842, 5),
        "fitness": (0.7969, 5), "culture": (0.914, 5), "primary_school": (0.4246, 1),
        "middle_school": (0.4443, 0),
    }  # fmt: skip
    assert s["needs_other_measures_by_category"] == {
        "convenience": 1, "elderly_daycare": 38, "health_station": 27, "kindergarten": 41,
        "market": 4, "nursery": 43, "nursing_home": 18,
    }  # fmt: skip
    picks = demo_rows.siting.sites.groupby("category").size()  # independent: the picked rows
    assert len(demo_rows.siting.sites) == s["count"]
    assert {k: int(picks.get(k, 0)) for k in after} == {k: v[1] for k, v in after.items()}


def test_summary_json_keys_are_stable(demo_summary):
    """Readers of summary.json (scripts, the ledger) rely on these keys: add, never rename."""
    assert list(demo_summary) == [
        "project", "generated", "crs", "communities", "households", "households_known",
        "communities_with_households", "old_communities", "facilities", "parcels",
        "unknown_categories", "network", "inputs", "warnings", "facilities_dropped",
        "eligibility", "coverage", "capacity", "sites", "bundles", "priority", "headline_notes",
        "timings_s", "outputs",
    ]  # fmt: skip
    assert list(demo_summary["coverage"]) == [
        "communities", "households", "communities_with_households", "categories",
        "full_coverage_communities", "full_coverage_households", "distance_mode", "basket",
        "radii_m", "national_target", "gap_to_target", "households_known",
        "facilities_off_network", "communities_off_network", "standard", "threshold", "pace",
        "slope", "distance_unit", "by_subdistrict", "access_basis", "basket_without_facilities",
    ]  # fmt: skip
    assert list(demo_summary["bundles"]) == [
        "count", "communities", "households", "adjacent_pairs", "pairs_blocked_by_barriers",
        "pairs_split_by_subdistrict", "with_partner_parcels", "overlapping_communities",
        "duplicates_counted_once", "notes",
    ]  # fmt: skip
    assert list(demo_summary["network"]) == ["source", "nodes", "edges",
                                             "dropped_disconnected_nodes", "largest_part_share"]  # fmt: skip
    assert demo_summary["network"]["largest_part_share"] == 1.0  # the demo's streets all connect


# -- GCJ-02 / BD-09 against published pairs ----------------------------------------------------
# wandergis/coordtransform, test/app.js (https://github.com/wandergis/coordtransform), the pairs
# its README and many ports (hutool CoordinateUtilTest, coordtransform-rs) test against:
#   wgs84togcj02(116.404, 39.915) = [116.41024449916938, 39.91640428150164]
#   gcj02tobd09(116.404, 39.915)  = [116.41036949371029, 39.92133699351021]
#   bd09togcj02(116.404, 39.915)  = [116.39762729119315, 39.90865673957631]
WGS = (116.404, 39.915)
GCJ_OF_WGS = (116.41024449916938, 39.91640428150164)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def test_wgs84_to_gcj02_matches_the_published_pair():
    from spatial.core.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02([WGS[0]], [WGS[1]])
    assert _metres((lon[0], lat[0]), GCJ_OF_WGS) < 0.5
    # direction and size of the shift: east ~533 m and north ~156 m of the WGS84 point
    assert lon[0] - WGS[0] == pytest.approx(0.00624, abs=2e-5)
    assert lat[0] - WGS[1] == pytest.approx(0.00140, abs=2e-5)


def test_gaode_basemap_moves_overlays_onto_the_published_gcj02_point():
    """The Gaode basemap shifts a WGS84 overlay to exactly where GCJ-02 puts it (not the
    inverse, which lands ~580 m the other way)."""
    import geopandas as gpd
    import shapely

    from spatial.outputs.html.leaflet import display_frame

    frame = gpd.GeoDataFrame(geometry=[shapely.Point(WGS)], crs=4326)
    gaode = display_frame(frame, "gaode").geometry.iloc[0]
    assert _metres((gaode.x, gaode.y), GCJ_OF_WGS) < 1.5  # output rounded to ~1 m
    plain = display_frame(frame, "none").geometry.iloc[0]
    assert _metres((plain.x, plain.y), WGS) < 1.5


def test_bd09_to_wgs84_through_the_published_gcj02_pair():
    """BD-09 (116.404, 39.915) is GCJ-02 (116.39762729119315, 39.90865673957631) (published);
    its WGS84 is that GCJ-02 point moved back by the GCJ-02 shift."""
    from spatial.core.crs import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_gcj02

    lon, lat = bd09_to_wgs84([116.404], [39.915])
    assert _metres((lon[0], lat[0]), tuple(x[0] for x in
                   gcj02_to_wgs84([116.39762729119315], [39.90865673957631]))) < 0.5  # fmt: skip
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert _metres((glon[0], glat[0]), (116.39762729119315, 39.90865673957631)) < 0.5


# -- README behaviours -------------------------------------------------------------------------


def _pair_frame(polys, subdistricts, years=(1990, 1990), willingness=(0.8, 0.8)):
    import geopandas as gpd
    import numpy as np

    from spatial.analysis.bundles.eligibility import assess_eligibility
    from spatial.config.project import PolicyConfig

    n = len(polys)
    frame = gpd.GeoDataFrame({
        "cid": [f"C{i}" for i in range(n)], "name": [f"小区{i}" for i in range(n)],
        "subdistrict": list(subdistricts), "built_raw": [str(y) for y in years],
        "built_year_min": list(years), "built_year_max": list(years), "households": [100] * n,
        "floor_area": [5000.0] * n, "willingness": list(willingness),
        "infrastructure_deficit": np.nan, "funding_share": np.nan,
    }, geometry=list(polys), crs=4548)  # fmt: skip
    return assess_eligibility(frame, PolicyConfig())


def _solve(frame, cfg, barriers=None):
    import geopandas as gpd

    from spatial.analysis.bundles.groups import Bundler
    from spatial.analysis.bundles.tables import bundle_frame, bundles_summary

    bundler = Bundler(frame, cfg, barriers).solve()
    parcels = gpd.GeoDataFrame({"pid": [], "kind": []}, geometry=[], crs=4548)
    bundles, _ = bundle_frame(bundler, parcels, load_standards(), 4548)
    return bundles, bundles_summary(bundles, bundler, frame)


def _two_blocks():
    """Two compounds near Jinan 10 m apart across y = y0 + 50."""
    import shapely

    from .conftest import JINAN, to_4548

    x0, y0 = to_4548(*JINAN)
    return (x0, y0), [
        shapely.box(x0, y0, x0 + 100, y0 + 45),
        shapely.box(x0, y0 + 55, x0 + 100, y0 + 100),
    ]


def test_same_subdistrict_splits_pairs_and_counts_them_apart():
    from spatial.config.project import BundlingConfig

    _, polys = _two_blocks()
    frame = _pair_frame(polys, ["甲街道", "乙街道"])
    bundles, summary = _solve(frame, BundlingConfig())
    assert len(bundles) == 1 and summary["adjacent_pairs"] == 1
    bundles, summary = _solve(frame, BundlingConfig(same_subdistrict=True))
    assert len(bundles) == 0
    assert (summary["adjacent_pairs"], summary["pairs_split_by_subdistrict"]) == (0, 1)
    assert summary["pairs_blocked_by_barriers"] == 0  # no barrier: not counted as one


def test_barrier_path_layer_in_another_crs_blocks_adjacency(tmp_path):
    import geopandas as gpd
    import shapely

    from spatial.analysis.bundles.adjacency import barrier_lines
    from spatial.config.project import BundlingConfig

    (x0, y0), polys = _two_blocks()
    river = gpd.GeoDataFrame(geometry=[shapely.LineString([(x0 - 50, y0 + 50), (x0 + 150, y0 + 50)])],
                             crs=4548).to_crs(4326)  # fmt: skip
    river.to_file(tmp_path / "river.geojson")
    cfg = BundlingConfig(barrier_path="river.geojson")
    barriers = barrier_lines(None, cfg, 4548, tmp_path / "river.geojson")
    assert len(barriers) == 1
    frame = _pair_frame(polys, ["甲街道", "甲街道"])
    bundles, summary = _solve(frame, cfg, barriers)
    assert len(bundles) == 0
    assert (summary["pairs_blocked_by_barriers"], summary["pairs_split_by_subdistrict"]) == (1, 0)
    # the same river north of both compounds blocks nothing
    river.to_crs(4548).translate(0, 200).to_crs(4326).to_file(tmp_path / "north.geojson")
    moved = barrier_lines(None, cfg, 4548, tmp_path / "north.geojson")
    assert len(_solve(frame, cfg, moved)[0]) == 1


def test_barrier_highways_choose_which_streets_separate():
    from spatial.analysis.bundles.adjacency import barrier_lines
    from spatial.config.project import BundlingConfig

    from .conftest import line_network

    (x0, y0), polys = _two_blocks()
    net = line_network([x0 - 50, x0 + 50, x0 + 150], y=y0 + 50)  # a street in the gap
    frame = _pair_frame(polys, ["甲街道", "甲街道"])
    for highway, cfg, blocked in [
        ("residential", BundlingConfig(), 0),  # 支路: walked, not a barrier
        ("primary", BundlingConfig(), 1),  # 主干路: a barrier by default
        ("primary_link", BundlingConfig(), 1),  # its link roads too
        ("primary", BundlingConfig(barrier_highways=["trunk"]), 0),
        ("residential", BundlingConfig(barrier_highways=["residential"]), 1),
    ]:
        net.edges["highway"] = highway
        _, summary = _solve(frame, cfg, barrier_lines(net, cfg, 4548))
        assert summary["pairs_blocked_by_barriers"] == blocked, (highway, cfg.barrier_highways)


def test_bundler_results_before_solve_are_a_clear_error():
    import geopandas as gpd

    from spatial.analysis.bundles.groups import Bundler
    from spatial.analysis.bundles.tables import bundles_summary
    from spatial.config.project import BundlingConfig

    _, polys = _two_blocks()
    frame = _pair_frame(polys, ["甲", "甲"])
    bundler = Bundler(frame, BundlingConfig())
    assert not bundler.solved
    with pytest.raises(RuntimeError, match=r"solve\(\)"):
        _ = bundler.groups
    empty = gpd.GeoDataFrame({"members": [], "households": []}, geometry=[], crs=4548)
    with pytest.raises(RuntimeError, match=r"Bundler.solve\(\)"):
        bundles_summary(empty, bundler, frame)
    assert bundler.solve().solved and bundler.groups == [[0, 1]]


def test_bundle_priority_weights_from_the_project_file(tmp_path):
    """[priority] weights re-rank bundles: by default the pre-2000 bundle leads; with tier = 0
    the willing post-2000 one does."""
    import shapely

    from spatial.analysis.bundles.groups import Bundler
    from spatial.analysis.bundles.priority import bundle_priorities
    from spatial.analysis.bundles.tables import bundle_frame
    from spatial.config.project import BundlingConfig, PolicyConfig

    boxes = [shapely.box(x, 0, x + 100, 100) for x in (0, 100, 1000, 1100)]
    frame = _pair_frame(boxes, ["甲"] * 4, years=(1990, 1990, 2003, 2003),
                        willingness=(0.3, 0.3, 0.95, 0.95))  # fmt: skip
    bundler = Bundler(frame, BundlingConfig()).solve()
    parcels = frame.iloc[:0][["geometry"]].assign(pid=[], kind=[])
    bundles, ids = bundle_frame(bundler, parcels, load_standards(), 4548)
    frame["bundle_id"], frame["gaps"] = ids, 1
    old = set(ids.iloc[:2])
    assert len(bundles) == 2 and len(old) == 1
    default = load_project(_project(tmp_path, ""))
    ranked = bundle_priorities(bundles, frame, default.priority, PolicyConfig())
    assert ranked["bundle_id"].iloc[0] in old
    no_tier = load_project(_project(tmp_path, "[priority]\ntier = 0\n"))
    assert no_tier.priority.tier == 0.0
    ranked = bundle_priorities(bundles, frame, no_tier.priority, PolicyConfig())
    assert ranked["bundle_id"].iloc[0] not in old


def test_custom_standards_path_radius_decides_coverage(tmp_path):
    """A copy of the standards table with another market radius changes who is covered."""
    import geopandas as gpd
    import shapely

    from spatial.analysis.coverage.measure import compute_coverage

    from .conftest import line_network

    text = (settings.STANDARDS_DIR / "gb50180_2018.toml").read_text("utf-8")
    (tmp_path / "mine.toml").write_text(text.replace('source = "GB', 'source = "本市 GB'), "utf-8")
    project = load_project(_project(tmp_path, '[standards]\npath = "mine.toml"\n'))
    std = load_standards(project)
    assert std.source.startswith("本市") and std.categories["market"].radius_m == 500
    # market radius 500 → 600 in the copy
    mine = tmp_path / "mine.toml"
    lines = mine.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("[categories.market]"))
    j = next(i for i in range(at, len(lines)) if lines[i].startswith("radius_m"))
    lines[j] = "radius_m = 600"
    mine.write_text("\n".join(lines) + "\n", "utf-8")
    net = line_network([0, 100, 200, 300, 400, 500, 600, 700])
    fac = gpd.GeoDataFrame({"category": ["market"], "name": ["菜场"]},
                           geometry=[shapely.Point(0, 0)], crs=4548)  # fmt: skip
    comm = gpd.GeoDataFrame({"cid": ["C0"], "name": ["甲"], "households": [100], "subdistrict": [""]},
                            geometry=[shapely.box(540, 10, 600, 60)], crs=4548)  # fmt: skip
    before = compute_coverage(comm, fac, std, project.coverage, net).communities
    after_std = load_standards(load_project(project.source))
    after = compute_coverage(comm, fac, after_std, project.coverage, net).communities
    assert before["market_m"].iloc[0] == pytest.approx(550.0)  # 540 along + 10 off the street
    assert not before["market_ok"].iloc[0] and after["market_ok"].iloc[0]


def test_straight_line_service_areas_and_distances_without_a_network():
    """No network: distance = straight distance × detour factor (1.3); the service area is a
    circle of radius / 1.3 around each facility."""
    import math

    import geopandas as gpd
    import shapely

    from spatial.analysis.coverage.measure import compute_coverage
    from spatial.analysis.coverage.service_areas import service_areas
    from spatial.config.project import CoverageConfig

    std = load_standards()
    cfg = CoverageConfig()
    fac = gpd.GeoDataFrame({"category": ["market"], "name": ["菜场"]},
                           geometry=[shapely.Point(0, 0)], crs=4548)  # fmt: skip
    comm = gpd.GeoDataFrame(
        {"cid": ["near", "far"], "name": ["甲", "乙"], "households": [1, 1], "subdistrict": ["", ""]},
        geometry=[shapely.box(380, -10, 400, 10), shapely.box(390, -10, 410, 10)], crs=4548,
    )  # fmt: skip
    cov = compute_coverage(comm, fac, std, cfg, None)
    out = cov.communities
    assert list(out["market_m"]) == [pytest.approx(494.0), pytest.approx(507.0)]
    assert list(out["market_ok"]) == [True, False]
    assert set(out["distance_mode"]) == {"straight_line"}
    assert (cov.facilities_off_network, cov.communities_off_network) == (0, 0)
    areas = service_areas(None, fac, cov.categories, std, cfg, 4548)
    (area,) = areas.loc[areas["category"] == "market", "geometry"]
    r = 500 / 1.3
    assert area.area == pytest.approx(math.pi * r * r, rel=0.01)
    assert area.contains(shapely.Point(r - 1, 0)) and not area.contains(shapely.Point(r + 1, 0))


def test_network_node_inside_a_community_is_reached_at_distance_zero():
    """A cul-de-sac ending inside a compound: its end node is an access point at distance 0, so
    a facility there is 0 m away (not the 50 m from where the street crosses the outline)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    from spatial.analysis.coverage.measure import compute_coverage
    from spatial.config.project import CoverageConfig
    from spatial.network.access_points import polygon_access
    from spatial.network.graph import StreetNetwork

    xy = np.array([[0.0, 0.0], [0.0, 100.0], [0.0, 200.0]])
    edges = gpd.GeoDataFrame({"u": [0, 1], "v": [1, 2], "highway": "footway"},
                             geometry=shapely.linestrings([[xy[0], xy[1]], [xy[1], xy[2]]]),
                             crs=4548)  # fmt: skip
    edges["length"] = edges.geometry.length
    net = StreetNetwork(xy, edges, edges.crs, "cul-de-sac")
    compound = shapely.box(-100, 150, 100, 300)
    access = polygon_access(net, np.array([compound]), 25.0, 500.0)
    inside = access.node == 2
    assert inside.sum() == 1 and access.extra[inside][0] == 0.0
    fac = gpd.GeoDataFrame({"category": ["market"], "name": ["菜场"]},
                           geometry=[shapely.Point(0, 200)], crs=4548)  # fmt: skip
    comm = gpd.GeoDataFrame({"cid": ["C0"], "name": ["甲"], "households": [1], "subdistrict": [""]},
                            geometry=[compound], crs=4548)  # fmt: skip
    out = compute_coverage(comm, fac, load_standards(), CoverageConfig(), net).communities
    assert out["market_m"].iloc[0] == 0.0
    # 50 m down the street outside the compound: reached where the street crosses the outline
    # (50 m), not through the inside node (100 m)
    fac2 = fac.set_geometry([shapely.Point(0, 150 - 50)])
    out2 = compute_coverage(comm, fac2, load_standards(), CoverageConfig(), net).communities
    assert out2["market_m"].iloc[0] == pytest.approx(50.0)


def test_every_subpackage_is_a_declared_layer():
    """The layer contract (``[tool.importlinter]`` in pyproject.toml, checked by ``lint-imports`` in
    the test command) names every subpackage of ``spatial``: a new folder cannot escape it."""
    import tomllib

    root = Path(__file__).parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    layers = {name for c in config["contracts"] if c["type"] == "layers" for name in c["layers"]}
    folders = {f"spatial.{p.parent.name}" for p in (root / "spatial").glob("*/__init__.py")} - {
        "spatial.data"
    }
    assert folders == layers
    flat = sorted(p.name for p in (root / "spatial").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py"], "modules belong in a layer's folder"
