"""The faster ways of writing the HTML maps (issue 14, large projects) give what the plain ways
gave: each fast path is checked against the straightforward computation it replaced, on the demo
and on hand-made values."""

from __future__ import annotations

import gc
import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.core.messages import labels
from spatial.outputs import style
from spatial.outputs.html import contents as maps
from spatial.outputs.html import leaflet, store_parcels
from spatial.outputs.html import write as report
from spatial.outputs.html.store import (
    SCALE,
    _escaped_column,
    _present,
    community_store,
    encode,
    street_lines,
)
from spatial.text import html as htmltext
from spatial.text.html import Html, esc, fragment, fragments
from spatial.workflow.pipeline import in_language


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return in_language(demo_analysis(("coverage", "bundle", "sites")), "zh")


# --- htmltext.fragments: the same escaping as htmltext.fragment, row by row -----------------------


def test_fragments_equal_fragment_row_by_row():
    tricky = ['<b>"x"</b>', "a{b}c", "o'k & co", "\u202eevil", "小区", "", "{{ x }}"]
    rows = [
        (t, Html("<i>kept</i>"), v, n)
        for t in tricky
        for v in (1, 1.0, True, np.float64(2.5), 1234567.891)
        for n in (None, float("nan"), esc("a<b"))
    ]
    template = "<div a='{}'>{}|{:,.1f}|{}</div>{{literal}}"
    cols = [list(c) for c in zip(*rows, strict=True)]
    cols[2] = [float(v) for v in cols[2]]  # the spec needs numbers
    expected = [fragment(template, *row) for row in zip(*cols, strict=True)]
    got = fragments(template, *cols)
    assert got == expected
    assert all(isinstance(g, Html) for g in got)
    # a repeated value of another type is not taken from the memo: True and 1 differ
    assert fragments("{}", [1, True, 1]) == [Html("1"), Html("True"), Html("1")]
    assert fragments("{:.0f}", [0.0, -0.0]) == [Html("0"), Html("-0")]  # equal, written apart


def test_fragments_refuse_what_fragment_would_not_do_alike():
    with pytest.raises(ValueError):
        fragments("{name}", ["x"])
    with pytest.raises(ValueError):
        fragments("{!r}", ["x"])
    with pytest.raises(ValueError):
        fragments("{} {}", ["x"])
    with pytest.raises(ValueError):  # HTML takes no format spec, as in fragment
        fragments("{:>5}", [Html("<b>")])


# --- the parcel layers: one shared table, the same cards and programmes -------------------------


def _programmes_one_by_one(result, keys):
    """The programme rule as it was written first: one parcel at a time."""
    from spatial.config.colocation import load_rules, needs

    reach = result.siting.reach
    parcels = result.layers.parcels.set_index("pid")
    comm = result.communities.set_index("cid")
    rules = load_rules()
    sizes = needs(result.standards, result.project.siting, rules)
    land = parcels["area_m2"].astype(float)
    given = (
        parcels["max_floor_area"].astype(float) if "max_floor_area" in parcels else land * np.nan
    )
    floor = given.where(np.isfinite(given), land * rules.default_far)
    out: dict[str, list[str]] = {}
    for key in keys:
        need = sizes.get(key)
        if need is None:
            continue
        near = reach.loc[reach["distance_m"] <= result.standards.categories[key].radius_m]
        near = near.loc[~comm.loc[near["cid"], f"{key}_ok"].to_numpy(bool)]
        for pid in near["pid"].unique():
            if land.get(pid, 0) + 1e-6 >= need.land and floor.get(pid, 0) + 1e-6 >= need.floor:
                out.setdefault(pid, []).append(key)
    return out


def test_programmes_equal_the_one_by_one_rule(demo):
    keys = list(demo.standards.categories)
    fast = store_parcels.parcel_programmes(demo, keys)
    assert fast == _programmes_one_by_one(demo, keys)
    assert sum(len(v) for v in fast.values()) > 10


def test_parcel_store_with_a_shared_table_equals_a_fresh_one(demo):
    """The overview and then every group map from one table (as write_maps does) give the stores
    each map computes alone; candidate cards as fragment wrote them one parcel at a time."""
    std = demo.standards
    comm = demo.communities
    origin = np.floor(comm.to_crs(4326).total_bounds[:2] * SCALE).astype(np.int64)
    table = store_parcels.ParcelTable(demo, "none", origin)
    lab = labels("zh")
    parcels = demo.layers.parcels.set_index("pid", drop=False)
    groups = [(list(std.categories), False)] + [
        ([k for k, c in std.categories.items() if c.group == g], True) for g in maps.CORE_GROUPS
    ]
    seen = 0
    for keys, group in groups:
        if not keys:
            continue
        shared = store_parcels.parcel_store(demo, comm, "zh", "none", origin, keys, group, table)
        alone = store_parcels.parcel_store(demo, comm, "zh", "none", origin, keys, group)
        assert shared == alone
        progs = _programmes_one_by_one(demo, keys)
        for pid, kind, card in zip(alone["pid"], alone["kind"], alone["card"], strict=True):
            if kind == "site":
                continue
            row = parcels.loc[pid]
            prog = progs.get(pid, []) if kind == "candidate" else []
            names = htmltext.join(
                [esc(std.categories[k].label("zh")) for k in prog], lab["sep_list"]
            )
            expected = fragment(
                "<div class=lc-card><b>{} {}</b><br>{}: {}<br>{}: {:,.0f}\u00a0m²<br>{}: {}</div>",
                lab["parcel"],
                esc(row["pid"]),
                lab["parcel_kind"],
                esc(row.get("kind")),
                lab["parcel_area"],
                float(row.get("area_m2", 0)),
                lab["whatif_programme"],
                names if prog else lab["none"],
            )
            assert card == str(expected)
            seen += 1
    assert seen > 10


# --- geometry shortcuts -----------------------------------------------------------------------


def _encode_piece_by_piece(geoms, origin):
    """The store's geometry encoding as first written (one array per ring, split and listed)."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    is_poly = shapely.get_type_id(parts) == 3
    rings, ring_of = np.empty(0, object), np.empty(0, int)
    if is_poly.any():
        rings, ring_of = shapely.get_rings(parts, return_index=True)
    lines = np.where(is_poly, None, parts)
    line_idx = np.flatnonzero(~is_poly)
    pieces = np.r_[rings, lines[line_idx]] if len(line_idx) else rings
    piece_part = np.r_[ring_of, line_idx].astype(int)
    coords, idx = shapely.get_coordinates(pieces, return_index=True)
    last = np.r_[idx[1:] != idx[:-1], True]
    keep = ~(last & (idx < len(rings)))
    coords, idx = coords[keep], idx[keep]
    q = np.round(coords * SCALE).astype(np.int64) - np.asarray(origin, np.int64)
    delta = q.copy()
    delta[1:] -= q[:-1]
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    delta[starts] = q[starts]
    out = [[] for _ in range(len(geoms))]
    by_part: dict[int, list] = {}
    for piece, arr in zip(
        piece_part[np.unique(idx)], np.split(delta.ravel(), starts[1:] * 2), strict=True
    ):
        by_part.setdefault(int(piece), []).append(arr.tolist())
    for p, g in enumerate(part_of):
        if p in by_part:
            out[int(g)].append(by_part[p])
    return out


def test_encode_equals_the_piece_by_piece_encoding(demo):
    holed = shapely.Polygon(
        [(117.0, 36.0), (117.01, 36.0), (117.01, 36.01), (117.0, 36.01)],
        [[(117.002, 36.002), (117.004, 36.002), (117.004, 36.004)]],
    )
    multi = shapely.MultiPolygon([holed, shapely.box(117.02, 36.02, 117.03, 36.03)])
    line = shapely.LineString([(117.0, 36.0), (117.005, 36.001), (117.01, 36.0)])
    comm = leaflet.display_frame(demo.communities, "none", tolerance=3.0).geometry.values
    geoms = np.r_[np.asarray(comm), [holed, multi, line, shapely.MultiLineString([line])]]
    origin = (11700000, 3600000)
    assert encode(geoms, origin) == _encode_piece_by_piece(geoms, origin)


def test_street_lines_group_edges_as_before(demo):
    """Edge directions from the coordinate array equal those from the end points."""
    geoms = demo.network.edges.geometry.values
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    angle = np.degrees(np.arctan2(*(end - start).T[::-1]))
    bins = np.floor(((angle + 15.0) % 180.0) / 30.0).astype(int)
    parts = [
        shapely.get_parts(shapely.line_merge(shapely.multilinestrings(geoms[bins == b])))
        for b in np.unique(bins)
    ]
    frame = gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=demo.network.crs)
    expected = leaflet.display_frame(frame, "none", tolerance=5.0)
    got = street_lines(demo, "none")
    assert len(got) == len(expected) > 10
    assert all(shapely.equals_exact(got.geometry.values, expected.geometry.values, 0))


def _hulls_as_before(comm):
    subs = comm["subdistrict"].fillna("").astype(str)
    known = comm.assign(_s=subs.to_numpy()).loc[subs.to_numpy() != ""]
    return known.dissolve("_s").convex_hull


def test_subdistrict_hulls_equal_the_hulls_of_the_dissolved_communities(demo):
    squares = [shapely.box(x, y, x + 3, y + 3) for x, y in [(0, 0), (2, 1), (4, 4), (20, 20)]]
    tilted = shapely.Polygon([(1, 5), (6, 7), (2, 9)])  # overlaps: the union adds vertices
    made = gpd.GeoDataFrame(
        {"subdistrict": ["a", "a", "a", "b", "a"]}, geometry=[*squares, tilted], crs=4548
    )
    for comm, kept in ((demo.communities, 1), (made, 2)):
        hulls, crossing = style.subdistrict_hulls(comm)
        expected = _hulls_as_before(comm)
        assert sorted([*hulls.index, *crossing]) == sorted(expected.index)
        assert len(hulls) >= kept
        got = shapely.to_wkb(hulls.values).tolist()
        assert got == shapely.to_wkb(expected.loc[hulls.index].values).tolist()


# --- the page: late layer data and the shared store parts ---------------------------------------


def _norm(page: str) -> str:
    ids: dict[str, str] = {}
    return re.sub(r"[a-z_]+_[0-9a-f]{32}", lambda m: ids.setdefault(m[0], f"id{len(ids)}"), page)


def _page(fmap: folium.Map) -> str:
    return fmap.get_root().render()


def test_late_layers_write_the_page_folium_writes(tmp_path):
    """A GeoJSON layer (style, tooltip): the saved page equals the one folium's own layer gives,
    and no stand-in is left in it."""
    polys = gpd.GeoSeries(
        [shapely.box(117, 36, 117.01, 36.01), shapely.box(117.02, 36, 117.03, 36.01)], crs=4326
    )
    data = leaflet.features(polys, {"tip": [esc("a<b>{x}"), esc("second")]})

    def build(late: bool) -> folium.Map:
        fmap = folium.Map(tiles=None)
        style = {"style_function": lambda _f: {"color": "#123456", "weight": 2}}
        tip = folium.GeoJsonTooltip(fields=["tip"], labels=False)
        if late:
            leaflet._LateGeoJson(json.loads(json.dumps(data)), tooltip=tip, **style).add_to(fmap)
        else:
            folium.GeoJson(json.loads(json.dumps(data)), tooltip=tip, **style).add_to(fmap)
        return fmap

    plain = leaflet.save_map(build(False), tmp_path / "plain.html").read_text("utf-8")
    page = leaflet.save_map(build(True), tmp_path / "late.html").read_text("utf-8")
    assert "lc-late" not in page
    assert _norm(plain) == _norm(page)


def test_shared_store_parts_are_spliced_as_one_encoding():
    store = {"map": "m", "comm": {"name": ["<b>", "小区\u2028"]}, "n": [1, 2.5, None]}
    whole = leaflet.store_json(store)
    parts = dict(store, comm=leaflet.store_json(store["comm"]))
    fmap, fmap2 = folium.Map(tiles=None), folium.Map(tiles=None)
    leaflet.add_store(fmap, store)
    leaflet.add_store(fmap2, parts)
    assert f"window.LC_STORE = {whole};" in _page(fmap)
    assert f"window.LC_STORE = {whole};" in _page(fmap2)
    assert json.loads(whole) == store and "\\u2028" in whole and "<" not in whole


def test_write_maps_restores_the_cycle_collector(tmp_path):
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with report._no_collector():
                assert not gc.isenabled()
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def test_run_cache_holds_one_run(demo):
    other = object()
    calls = []
    assert leaflet.run_cached(demo, ("k",), lambda: calls.append(1) or "a") == "a"
    assert leaflet.run_cached(demo, ("k",), lambda: calls.append(1) or "b") == "a"
    assert leaflet.run_cached(other, ("k",), lambda: calls.append(1) or "c") == "c"
    assert leaflet.run_cached(demo, ("k",), lambda: calls.append(1) or "d") == "d"
    assert len(calls) == 3
    maps.clear_cache()
    assert leaflet.run_cached(demo, ("k",), lambda: "e") == "e"
    maps.clear_cache()


def test_maps_of_a_run_share_their_store_parts(demo, tmp_path):
    """write_maps: the community part of every page's store is the same text, and equals the
    community store computed on its own."""
    files = report.write_maps(demo, tmp_path, "zh", "none")
    assert len(files) >= 2
    comm_parts = set()
    for f in files:
        page = f.read_text("utf-8")
        start = page.index('"comm":', page.index("window.LC_STORE = "))
        store = json.loads(
            page[page.index("window.LC_STORE = ") + 18 : page.index(";</script>", start)]
        )
        comm_parts.add(json.dumps(store["comm"], sort_keys=True))
    assert len(comm_parts) == 1
    origin = np.floor(demo.communities.to_crs(4326).total_bounds[:2] * SCALE)
    alone = community_store(demo, demo.communities, "zh", "none", origin.astype(np.int64))
    assert json.loads(comm_parts.pop()) == json.loads(json.dumps(alone))
    assert pd.notna(store["comm"]["hh"][0])


def test_card_fact_columns_escape_each_value_as_before():
    values = ["<a>", "<a>", None, float("nan"), "", 0.0, -0.0, 1, True, 1, "{x}", pd.NA, "小区"]
    expected = [str(esc(v)) if _present(v) else None for v in values]
    assert _escaped_column(values) == expected
    assert expected[5:7] == ["0.0", "-0.0"]


def test_run_cache_is_per_thread(demo):
    """Maps written in parallel threads (one run per language) do not share or clear entries."""
    import threading

    maps.clear_cache()
    assert leaflet.run_cached(demo, ("k",), lambda: "main") == "main"
    seen = []
    other = object()

    def work():
        seen.append(leaflet.run_cached(demo, ("k",), lambda: "thread"))
        leaflet.run_cached(other, ("k",), lambda: "other")  # clears this thread's entries only

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == ["thread"]
    assert leaflet.run_cached(demo, ("k",), lambda: "again") == "main"
    maps.clear_cache()
