"""The demo's GeoPackage opened in QGIS (headless, Debian's ``python3-qgis``): each layer with the
style the file holds, the project stored in it, and what the rendered map shows."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from spatial.core.messages import labels
from spatial.outputs import style
from spatial.outputs.gpkg.drawing import DRAW_ORDER, HIDDEN

QGIS_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")


def _qgis_ready() -> None:
    """Fail (never skip) with the fix when QGIS's Python bindings are missing."""
    found = (
        Path(QGIS_PYTHON).exists()
        and subprocess.run(
            [QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
        ).returncode
        == 0
    )
    if not found:
        pytest.fail(
            "QGIS's Python bindings are missing: apt-get install -y python3-qgis "
            "(the README's test command installs them)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def seen(demo_out, tmp_path_factory):
    """What QGIS reports about the demo's GeoPackage, and the folder of its renders."""
    _qgis_ready()
    folder = tmp_path_factory.mktemp("qgis")
    gpkg = folder / "lifecircle.gpkg"
    shutil.copy(demo_out / "lifecircle.gpkg", gpkg)  # QGIS opens the file read-write
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(folder)}
    done = subprocess.run(
        [QGIS_PYTHON, str(PROBE), str(gpkg), str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [x for x in done.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line), folder


def _blend(colour: str, alpha: float) -> np.ndarray:
    """``colour`` drawn at ``alpha`` over white, as RGB 0–255."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], float)
    a = round(alpha * 255) / 255
    return rgb * a + 255 * (1 - a)


def _pixels(png: Path, rgb: np.ndarray, tol: float = 4) -> int:
    """How many pixels of ``png`` are within ``tol`` of ``rgb`` on every channel."""
    image = np.asarray(Image.open(png).convert("RGB"), float)
    return int((np.abs(image - rgb).max(axis=2) <= tol).sum())


@pytest.mark.slow
def test_every_layer_opens_with_its_style(seen, demo_out):
    report, _ = seen
    layers = report["layers"]
    written = [n for n in DRAW_ORDER if n in layers]
    assert list(layers) == written  # written top to bottom
    assert all(info["valid"] for info in layers.values())
    comm = layers["communities"]
    assert comm["renderer"] == "RuleRenderer" and comm["geometry"] == "MultiPolygon"
    gaps = comm["classes"][: len(style.GAP_COLOURS)]
    assert [c[2] for c in gaps] == style.GAP_COLOURS
    assert [c[1] for c in gaps] == [text for _, text in style.gap_legend("zh")]
    outlines = [c[1] for c in comm["classes"][len(style.GAP_COLOURS) :]]
    assert outlines == [labels("zh")["eligible_outline"], labels("zh")["new_outline"]]
    facilities = layers["facilities"]
    assert facilities["renderer"] == "categorizedSymbol" and facilities["geometry"] == "Point"
    categories = gpd.read_file(demo_out / "lifecircle.gpkg", layer="facilities")["category"]
    values = [c[0] for c in facilities["classes"]]
    assert set(categories) <= set(values)
    assert [c[2] for c in facilities["classes"]] == [
        style.category_colour(k) for k in range(len(values))
    ]
    assert layers["service_areas"]["renderer"] == "categorizedSymbol"
    assert layers["bundles"]["renderer"] == "singleSymbol" and layers["bundles"]["labels"]


@pytest.mark.slow
def test_fields_have_their_chinese_titles_and_codes_their_words(seen):
    layers = seen[0]["layers"]
    heads = labels("zh")["ledger"]["columns"]
    aliases = layers["communities"]["aliases"]
    assert aliases["cid"] == heads["cid"] and aliases["gaps"] == heads["gaps"]
    assert aliases["built_raw"] == heads["built_raw"]
    assert aliases["fid"] == labels("zh")["gpkg"]["columns"]["fid"]
    # every field is titled; a column of the planner's own file keeps its header (拟征收)
    untitled = {
        name: [f for f, alias in info["aliases"].items() if (alias or f) == f and f.isascii()]
        for name, info in layers.items()
    }
    assert not any(untitled.values()), untitled
    tier = layers["communities"]["widgets"]["tier"]
    assert tier[0] == "ValueMap"
    shown = {v: k for item in tier[1]["map"] for k, v in item.items()}
    assert shown["priority"] == labels("zh")["ledger"]["tiers"]["priority"]


@pytest.mark.slow
def test_the_project_draws_points_over_areas_and_hides_what_covers(seen):
    report, _ = seen
    assert report["project_read"]
    order = report["project_order"]
    assert order == [n for n in DRAW_ORDER if n in report["layers"]]
    assert all(report["project_valid"].values()), report["project_valid"]
    assert order[0] == "facilities" and order[-1] == "communities"
    assert order.index("service_areas") < order.index("communities")
    assert set(report["project_ticked"]) == set(order) - set(HIDDEN)
    assert report["project_names"][0] == labels("zh")["facilities"]


@pytest.mark.slow
def test_the_render_shows_the_gap_classes_and_the_facilities(seen, demo_out):
    """The communities' render holds every gap class the demo has, in its legend colour (70 %
    over white), and no class it has not; the project's render shows the facilities' colours."""
    report, folder = seen
    assert report["communities_png"] and report["project_png"]
    comm = gpd.read_file(demo_out / "lifecircle.gpkg", layer="communities")
    present = set(np.minimum(comm["gaps"].astype(int), len(style.GAP_COLOURS) - 1))
    for k, colour in enumerate(style.GAP_COLOURS):
        count = _pixels(folder / "communities.png", _blend(colour, 0.7))
        assert (count > 200) == (k in present), (k, colour, count)
    facilities = gpd.read_file(demo_out / "lifecircle.gpkg", layer="facilities")
    keys = list(dict.fromkeys(facilities["category"]))
    cats = _category_order(demo_out)
    for key in keys:
        colour = style.category_colour(cats.index(key))
        assert _pixels(folder / "project.png", _blend(colour, 1.0), tol=10) > 5, key


def _category_order(demo_out: Path) -> list[str]:
    """The categories in the standards' order, as the facilities' style lists them."""
    with sqlite3.connect(demo_out / "lifecircle.gpkg") as db:
        qml = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'facilities'"
        ).fetchone()[0]
    from xml.etree.ElementTree import fromstring

    return [c.get("value") for c in fromstring(qml).iter("category")]
