"""The service areas as the page draws them (issue 25): from the reached streets, stroked 2·B
metres wide by the browser (:mod:`spatial.outputs.html.areas`), they cover what the exact polygons of the
GeoPackage cover, to within the stated tolerance — checked pixel by pixel in headless Chromium
on the demo, and the store's street table decoded in Python against the network."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from spatial.analysis.coverage.service_areas import QUAD_SEGS
from spatial.outputs.html import areas as mapareas
from spatial.outputs.html import contents as maps
from spatial.outputs.html import leaflet
from spatial.workflow.pipeline import in_language

from ..conftest import open_page

_MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"


@pytest.fixture(scope="module")
def drawn(demo_analysis, tmp_path_factory) -> tuple[object, Path, dict]:
    """The demo's coverage, its overview written; the store read back from the page."""
    result = in_language(demo_analysis(("coverage",)), "zh")
    path = tmp_path_factory.mktemp("areas") / "overview.html"
    leaflet.save_map(maps.overview_map(result, "zh", "none"), path)
    maps.clear_cache()
    page = path.read_text("utf-8")
    start = page.index("window.LC_STORE = ") + len("window.LC_STORE = ")
    return result, path, json.loads(page[start : page.index(";</script>", start)])


def test_store_draws_areas_from_the_streets_not_polygons(drawn):
    result, path, store = drawn
    areas = store["areas"]
    keys = list(result.service_areas["category"])
    assert len(areas) == len(keys) and all("streets" in a and "geom" not in a for a in areas)
    assert store["streets"] is None and store["streetTable"]  # the streets drawn once, from it
    overlays = [o["name"] for o in store["overlays"]]  # folium's layers: no service area
    assert overlays and not any("服务范围" in name for name in overlays)
    # the edges reached whole are those whose both ends' reach adds up to their length
    net = result.network
    table = mapareas.StreetTable(result, "none", store["origin"])
    key = keys[0]
    radius = result.standards.categories[key].radius_m
    bits = np.unpackbits(
        np.frombuffer(base64.b64decode(areas[0]["streets"]["whole"]), np.uint8),
        bitorder="little",
    )[: len(net.edges)].astype(bool)
    dist = result.node_dist[key]
    du, dv = dist[net.edges["u"].to_numpy()], dist[net.edges["v"].to_numpy()]
    slack = np.clip(radius - du, 0, None) + np.clip(radius - dv, 0, None)
    whole = slack >= net.edges["length"].to_numpy()
    assert bits.sum() == whole.sum() > 0
    assert (bits == whole[table.order]).all()


def _samples(page, lat: float, lng: float, zoom: int) -> list[list[float]]:
    """Every 6th pixel of the view at (lat, lng, zoom): its lat/lng and the areas canvas'
    alpha there."""
    return page.evaluate(
        f"""([lat, lng, zoom]) => new Promise(done => {{
        const map = {_MAP};
        map.setView([lat, lng], zoom, {{animate: false}});
        requestAnimationFrame(() => requestAnimationFrame(() => {{
          const canvas = map.getPane('lc-areas').querySelector('canvas');
          const box = canvas.getBoundingClientRect(), ctx = canvas.getContext('2d');
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          const sx = canvas.width / box.width, sy = canvas.height / box.height;
          const out = [], root = map.getContainer().getBoundingClientRect();
          for (let y = 20; y < root.height - 20; y += 6) for (let x = 20; x < root.width - 20; x += 6) {{
            const cx = Math.round((root.left + x - box.left) * sx), cy = Math.round((root.top + y - box.top) * sy);
            const ll = map.containerPointToLatLng([x, y]);
            out.push([ll.lat, ll.lng, img[(cy * canvas.width + cx) * 4 + 3]]);
          }}
          done(out);
        }}));
      }})""",
        [lat, lng, zoom],
    )


def test_drawn_areas_cover_the_exact_ones_within_the_tolerance(drawn, browser, tmp_path):
    """Each pixel well inside the exact polygon is painted, each one well outside is not; "well"
    is the stated tolerance (coordinates to about 1 m), the exact polygons' own approximation
    of round ends (``QUAD_SEGS`` segments per quarter circle fall short of the circle by
    B·(1 − cos(π/4/QUAD_SEGS))) and a pixel."""
    result, path, store = drawn
    areas = result.service_areas.set_index("category")
    key = areas["radius_m"].idxmax()
    j = list(areas.index).index(key)
    exact = areas.geometry[key]
    buffer = result.project.coverage.service_area_buffer_m
    page, errors, _, _ = open_page(browser, path, tmp_path / "a.png")
    assert errors == []
    page.evaluate(
        "j => { const D = window.LC_STORE; document.querySelectorAll("
        "'.leaflet-control-layers-overlays label').forEach(l => { if (l.innerText.trim() === "
        "D.areas[j].name.trim()) l.querySelector('input').click(); }); }",
        j,
    )
    assert "服务范围在地图上按屏幕分辨率绘制" in page.locator("#lc-legend").inner_text()
    to_lonlat = Transformer.from_crs(areas.crs, 4326, always_xy=True)
    to_metric = Transformer.from_crs(4326, areas.crs, always_xy=True)
    ring = np.asarray(shapely.get_exterior_ring(shapely.get_parts(exact)[0]).coords)
    inside = outside = 0
    for zoom in (16, 18):
        centre = ring[len(ring) // 3]  # on the area's edge: both sides in view
        lng, lat = to_lonlat.transform(*centre)
        pixel = 40075016.686 * np.cos(np.radians(lat)) / 2 ** (zoom + 8)
        tol = 1.0 + buffer * (1 - np.cos(np.pi / 4 / QUAD_SEGS)) + 1.5 * pixel
        rows = np.array(_samples(page, lat, lng, zoom))
        x, y = to_metric.transform(rows[:, 1], rows[:, 0])
        pts = shapely.points(x, y)
        well_in = shapely.contains(exact.buffer(-tol), pts)
        well_out = ~shapely.intersects(exact.buffer(tol), pts)
        painted = rows[:, 2] > 0
        assert painted[well_in].all(), f"zoom {zoom}: {(~painted[well_in]).sum()} unpainted"
        assert not painted[well_out].any(), f"zoom {zoom}: {painted[well_out].sum()} painted"
        inside, outside = inside + well_in.sum(), outside + well_out.sum()
    assert inside > 500 and outside > 500  # both sides sampled
    page.close()
