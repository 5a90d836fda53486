"""Shared fixtures: small hand-built projects written to temporary folders."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from spatial.cli import main as cli
from spatial.network.graph import StreetNetwork

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip

JINAN = (117.02, 36.66)  # lon/lat inside CGCS2000 GK zone 117°E (EPSG:4548)


#: Fixtures that run the demo, a whole run or a subprocess: a test using one is ``slow``.
_SLOW_FIXTURES = {"demo_analysis", "demo_out", "evil_run", "extract", "reference", "hostile",
                  "cli_coverage"}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that opens headless Chromium (the ``browser`` fixture) ``browser``, and
    every test that uses the demo's session analysis or run, or another fixture of
    ``_SLOW_FIXTURES``, ``slow``: the inner loop, ``pytest -m "not slow and not browser"``, leaves them out."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
        if _SLOW_FIXTURES & set(names):
            item.add_marker(pytest.mark.slow)


def to_4548(lon: float, lat: float) -> tuple[float, float]:
    return Transformer.from_crs(4326, 4548, always_xy=True).transform(lon, lat)


@pytest.fixture
def run_cli(capsys):
    """Run the command line in-process; return (exit code, stdout, stderr)."""

    def _run(*args: str) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_communities(n: int = 4) -> gpd.GeoDataFrame:
    """``n`` 80 m square compounds in a row near Jinan, 100 m apart, in EPSG:4548."""
    x0, y0 = to_4548(*JINAN)
    rows = []
    for i in range(n):
        rows.append({
            "小区名称": f"测试小区{i + 1}", "建成年代": ["1995", "2003年", "90年代", "2010-05"][i % 4],
            "户数": 100 + 10 * i, "所属街道": "历下街道" if i < 2 else "泉城路街道",
            "geometry": shapely.box(x0 + 100 * i, y0, x0 + 100 * i + 80, y0 + 80),
        })  # fmt: skip
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4548)


def small_facilities_csv(
    path: Path, rows: list[tuple[str, str, float, float]] | None = None
) -> Path:
    """Facilities as a GCJ-02 CSV (名称, 类别, 经度, 纬度), like a Gaode export."""
    from spatial.core.crs import wgs84_to_gcj02

    rows = rows or [
        ("幸福托老所", "托老所", *JINAN),
        ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1]),
    ]
    lon, lat = wgs84_to_gcj02([r[2] for r in rows], [r[3] for r in rows])
    frame = pd.DataFrame({"名称": [r[0] for r in rows], "类别": [r[1] for r in rows],
                          "经度": np.round(lon, 7), "纬度": np.round(lat, 7)})  # fmt: skip
    frame.to_csv(path, index=False, encoding="utf-8")
    return path


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    """A valid project folder: communities.gpkg, facilities.csv (GCJ-02), project.toml."""
    small_communities().to_file(tmp_path / "communities.gpkg", driver="GPKG")
    small_facilities_csv(tmp_path / "facilities.csv")
    (tmp_path / "project.toml").write_text(
        '[project]\nname = "测试"\n[communities]\npath = "communities.gpkg"\n'
        '[facilities]\npath = "facilities.csv"\ncoords = "gcj02"\n',
        encoding="utf-8",
    )
    return tmp_path / "project.toml"


def line_network(xs: list[float], crs: int = 4548, y: float = 0.0) -> StreetNetwork:
    """A straight street through nodes at ``xs`` (metres) — distances are known by hand."""
    xy = np.array([[x, y] for x in xs], float)
    u = np.arange(len(xs) - 1)
    geoms = shapely.linestrings([[xy[i], xy[i + 1]] for i in u])
    edges = gpd.GeoDataFrame(
        {"u": u, "v": u + 1, "highway": "residential"}, geometry=geoms, crs=crs
    )
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "hand-built")


def grid_network(n: int, spacing: float, rng: np.random.Generator | None = None,
                 drop: float = 0.0) -> StreetNetwork:  # fmt: skip
    """An n×n street grid; optionally with a share of edges removed (kept connected by design)."""
    rng = rng or np.random.default_rng(0)
    xy = np.array([[i * spacing, j * spacing] for j in range(n) for i in range(n)], float)
    pairs = []
    for j in range(n):
        for i in range(n):
            k = j * n + i
            if i + 1 < n and (j == 0 or rng.random() >= drop):
                pairs.append((k, k + 1))
            if j + 1 < n and (i == 0 or rng.random() >= drop):
                pairs.append((k, k + n))
    u, v = np.array(pairs).T
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    edges = gpd.GeoDataFrame({"u": u, "v": v, "highway": "residential"}, geometry=geoms, crs=4548)
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "grid")


# --- headless Chromium, the network blocked -------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: the README's test command installs it")
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path, shot: Path):
    """Open a file with every network request blocked; return page, console errors, requests."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors, blocked, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def guard(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shot))
    return page, errors, blocked, dialogs


# --- the demo district analysed once per session ------------------------------------------------


def _fingerprint(result) -> dict[str, str]:
    """What a test must not change in a shared analysis: the summary and every frame's values."""
    parts = {"summary": repr(sorted(result.summary.items(), key=str))}
    frames = {"communities": result.communities, "facilities": result.layers.facilities,
              "parcels": result.layers.parcels, "service_areas": result.service_areas}  # fmt: skip
    for stage, names in ((result.bundling, ("bundles", "priority")), (result.siting, ("sites",))):
        frames |= {n: getattr(stage, n) for n in names} if stage is not None else {}
    for name, frame in frames.items():
        if frame is not None:
            parts[name] = ",".join(map(str, frame.columns)) + frame.to_csv()
    for name, dist in result.node_dist.items():
        parts[f"node_dist.{name}"] = np.asarray(dist).tobytes()
    return {k: hashlib.sha256(v if isinstance(v, bytes) else v.encode()).hexdigest()
            for k, v in parts.items()}  # fmt: skip


@pytest.fixture(scope="session")
def demo_analysis():
    """The embedded demo analysed once per set of stages for the whole session.

    Call it as ``demo_analysis(stages, basemap="none", own_frames=False)``. Each call returns a
    fresh view of the one analysis: its own copy of the project (with ``render.basemap`` set;
    ``None`` keeps the project's own), of ``summary`` (writers localise it), ``files``,
    ``timings`` and the problems list; ``own_frames=True`` also copies the communities frame for
    a test that edits it. The frames are otherwise shared: at the end of the session each
    analysis is checked unchanged, so a test that mutates one fails here.
    """
    import copy
    from dataclasses import replace

    from spatial.config.project import load_project
    from spatial.workflow.pipeline import analyse, load_inputs

    cache: dict[tuple[str, ...], tuple[object, str]] = {}

    def view(stages, basemap: str | None = "none", own_frames: bool = False):
        key = tuple(stages)
        if key not in cache:
            result = analyse(load_inputs(load_project(None)), key)
            cache[key] = (result, _fingerprint(result))
        result = cache[key][0]
        project = copy.deepcopy(result.project)
        if basemap is not None:
            project.render.basemap = basemap
        comm = result.communities.copy() if own_frames else result.communities
        layers = replace(result.layers, communities=comm, problems=list(result.layers.problems))
        return replace(
            result, project=project, layers=layers,
            summary=copy.deepcopy(result.summary), files=list(result.files),
            timings=dict(result.timings),
        )  # fmt: skip

    yield view
    changed = {}
    for stages, (result, before) in cache.items():
        after = _fingerprint(result)
        changed |= (
            {stages: sorted(k for k in before if after.get(k) != before[k])}
            if after != before
            else {}
        )
    assert not changed, f"a test changed the shared demo analysis (stages: parts): {changed}"


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory) -> Path:
    """The demo's whole run (``run``, no basemap, print failures raised) written once for the
    session; tests only read this folder."""
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import run

    out = tmp_path_factory.mktemp("demo_out")
    project = load_project(None)
    project.render.basemap = "none"
    run(project, out, strict_print=True)
    return out
