"""Service areas on the HTML maps, drawn at the screen's resolution from the streets they reach.

A service area is the set of points within ``service_area_buffer_m`` (B) of the street pieces
reached within the category's radius (:mod:`spatial.analysis.coverage.service_areas`). On a city whose facilities
cover it patchily its polygon has hundreds of thousands of vertices (every block the area
reaches around leaves a hole); simplifying it for the screen removes few of them. The page
draws the same set instead from what it is made of: each reached street piece stroked with
round ends and joins ``2·B`` metres wide — the union of the pieces' buffers, drawn by the
browser at whatever zoom the reader is at, in one stroke per category (so overlaps are painted
once). The data is one shared table of the network's streets (:func:`street_table`: nodes,
edges, bends, in integer units of 1e-5°, about a metre) and per category which edges are reached
whole (a bitmask) and how far along the partly reached ones (:func:`area_store`). The
GeoPackage keeps the exact polygons; the page says how the areas are drawn.

Without a network (straight-line distances) an area is a set of circles: drawn as polygons.
"""

from __future__ import annotations

import base64

import geopandas as gpd
import numpy as np
import shapely

from spatial.analysis.coverage.basis import distance_unit
from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.outputs.html.leaflet import display_frame
from spatial.outputs.html.store import SCALE, encode
from spatial.outputs.style import category_colour
from spatial.text.html import esc, fragment

FRACTION = 10_000  # partly reached edges: how far along, in 1/FRACTION of the edge
BEND_TOLERANCE = 1.0  # m: an edge's bends simplified by this (the nodes are exact)


def _deltas(values: np.ndarray) -> list[int]:
    """Integers as the first and then each one's difference from the one before."""
    values = np.asarray(values, np.int64)
    return np.diff(values, prepend=0).tolist() if len(values) else []


def _chained(xy: np.ndarray) -> list[int]:
    """Points (n, 2 integers) flattened as differences from the point before (the first: from
    zero)."""
    d = np.asarray(xy, np.int64).copy()
    d[1:] -= xy[:-1]
    return d.ravel().tolist()


class StreetTable:
    """The walking network as the page draws it: nodes in rows (neighbours get near indices),
    edges sorted by their first node, each edge's bends; :attr:`data` is its store form and
    :attr:`order`, :attr:`flip` map the network's edges to the table's."""

    def __init__(self, result: RunResult, basemap: str, origin) -> None:
        net = result.network
        pts = gpd.GeoDataFrame(geometry=shapely.points(net.node_xy), crs=net.crs)
        lonlat = shapely.get_coordinates(display_frame(pts, basemap, tolerance=0).geometry.values)
        q = np.round(lonlat * SCALE).astype(np.int64) - np.asarray(origin, np.int64)
        rows = np.floor((net.node_xy[:, 1] - net.node_xy[:, 1].min()) / 200.0)
        node_order = np.lexsort((net.node_xy[:, 0], rows))
        rank = np.empty(len(node_order), np.int64)
        rank[node_order] = np.arange(len(node_order))
        u, v = rank[net.edges["u"].to_numpy()], rank[net.edges["v"].to_numpy()]
        flip = u > v
        a, b = np.where(flip, v, u), np.where(flip, u, v)
        order = np.lexsort((b, a))
        self.order, self.flip = order, flip
        self.n_edges = len(order)
        self.data = {
            "nodes": _chained(q[node_order]),
            "a": _deltas(a[order]),
            "b": (b[order] - a[order]).tolist(),
            **self._bends(result, basemap, origin, order, flip),
        }

    def _bends(self, result, basemap, origin, order, flip) -> dict:
        """The inner vertices of the edges that bend, simplified by :data:`BEND_TOLERANCE`:
        ``bendEdge`` (their table positions, as deltas), ``bendN`` (how many each) and ``bendXY``
        (lon/lat integers from the edge's first node on, each as its difference from the bend
        before, across edges)."""
        geoms = result.network.edges.geometry.values[order]
        bent = np.flatnonzero(shapely.get_num_coordinates(geoms) > 2)
        if not len(bent):
            return {"bendEdge": [], "bendN": [], "bendXY": []}
        frame = gpd.GeoDataFrame(geometry=geoms[bent], crs=result.network.crs)
        disp = display_frame(frame, basemap, tolerance=BEND_TOLERANCE).geometry.values
        back = flip[order][bent]
        disp[back] = shapely.reverse(disp[back])
        coords, owner = shapely.get_coordinates(disp, return_index=True)
        count = np.bincount(owner, minlength=len(bent))
        ends = np.cumsum(count)
        inner = np.ones(len(coords), bool)
        inner[ends - count] = inner[ends - 1] = False
        q = np.round(coords[inner] * SCALE).astype(np.int64) - np.asarray(origin, np.int64)
        n = count - 2
        keep = n > 0
        return {"bendEdge": _deltas(bent[keep]), "bendN": n[keep].tolist(), "bendXY": _chained(q)}

    def reach(self, result: RunResult, key: str, radius: float) -> dict:
        """Category ``key``'s reached streets in table order: ``whole`` (base64 bitmask of the
        edges reached end to end, bit ``i % 8`` of byte ``i // 8``), ``fromA``/``fromB`` (edges
        reached part way from their first/second node: positions as deltas) and ``fracA``/
        ``fracB`` (how far, in 1/:data:`FRACTION` of the edge)."""
        net = result.network
        dist = result.node_dist[key]
        length = np.maximum(net.edges["length"].to_numpy(float), 1e-9)
        reach_u = np.clip(radius - dist[net.edges["u"].to_numpy()], 0, None)
        reach_v = np.clip(radius - dist[net.edges["v"].to_numpy()], 0, None)
        if net.slope is not None:  # hills: flat-equivalent metres left at a node → metres in
            reach_u, reach_v = net.slope.reach(reach_u, reach_v)
        whole = reach_u + reach_v >= length
        reach_a = np.where(self.flip, reach_v, reach_u)[self.order]
        reach_b = np.where(self.flip, reach_u, reach_v)[self.order]
        whole = whole[self.order]
        out = {"whole": base64.b64encode(np.packbits(whole, bitorder="little").tobytes()).decode()}
        for end, r in (("A", reach_a), ("B", reach_b)):
            part = np.flatnonzero(~whole & (r > 0))
            frac = np.ceil(r[part] / length[self.order][part] * FRACTION).astype(np.int64)
            out[f"from{end}"] = _deltas(part)
            out[f"frac{end}"] = np.minimum(frac, FRACTION).tolist()
        return out


def area_store(
    result: RunResult, lang: str, basemap: str, origin, keys: set[str], show: bool, table
) -> tuple[list[dict], list[dict]]:
    """The service areas of categories ``keys`` as store entries and their legend entries
    (``lc:area<j>``): per category ``name`` (escaped), ``colour``, ``show`` and either
    ``buffer`` (B, metres) with the reached streets (:meth:`StreetTable.reach`) or, without a
    network, ``geom`` (:func:`spatial.outputs.html.store.encode` polygons). ``table`` makes the shared
    :class:`StreetTable` (called only when some area is drawn from the streets)."""
    from spatial.outputs.html.overlays import section  # the legend rows of every layer

    areas = result.service_areas
    entries: list[dict] = []
    legend: list[dict] = []
    if areas is None or len(areas) == 0:
        return entries, legend
    buffer = result.project.coverage.service_area_buffer_m
    for i, key in enumerate(result.standards.categories):
        sel = areas.loc[areas["category"] == key]
        if key not in keys or len(sel) == 0:
            continue
        cat = result.standards.categories[key]
        unit = distance_unit(result.summary.get("coverage"), lang)
        name = f"{labels(lang)['service_areas']}: {cat.label(lang)} {cat.radius_m:.0f} {unit}"
        entry = {"name": str(esc(name)), "colour": category_colour(i), "show": bool(show)}
        if result.network is not None and key in result.node_dist:
            entry["buffer"] = buffer
            entry["streets"] = table().reach(result, key, cat.radius_m)
        else:
            disp = display_frame(sel, basemap, tolerance=1.0)
            entry["geom"] = encode(disp.geometry.values, origin)
        legend.append(
            {"ref": f"lc:area{len(entries)}", "html": str(section("", [(entry["colour"], name)]))}
        )
        entries.append(entry)
    if any("streets" in e for e in entries):
        note = text(lang, "area_drawn_note", buffer=f"{buffer:g}")
        row = fragment(
            '<div class=lc-leg style="max-width:300px"><span class=lc-note>{}</span></div>', note
        )
        legend.append({"ref": "lc:areas", "html": str(row)})
    return entries, legend
