"""Bundle labels when a city has many bundles: on the HTML map they are placed in priority order,
each where it covers at most ``ICON_OVERLAP`` of one already placed (zoom in for more; the facility
icons share the rule, tests/outputs/test_map_thinning.py); with few, every one shows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import shapely
import shapely.affinity

from spatial.outputs.html import contents as maps
from spatial.outputs.html import leaflet
from spatial.outputs.html.overlays import ICON_OVERLAP
from spatial.workflow.pipeline import in_language

from ..conftest import open_page
from .test_map_thinning import worst_cover

COPIES = 30  # the demo's 19 bundles 30 times: 570 bundles crowded over the district


@pytest.fixture(scope="module")
def crowded_run(demo_analysis):
    """The demo with its bundles 30 times over, shifted a little each time, in priority order."""
    result = in_language(demo_analysis(("coverage", "bundle", "sites")), "zh")
    bundles = result.bundling.bundles
    copies = []
    for k in range(COPIES):
        copy = bundles.copy()
        copy["bundle_id"] = [f"B{k * len(bundles) + j + 1:04d}" for j in range(len(bundles))]
        copy = copy.set_geometry(
            [
                shapely.affinity.translate(g, 40.0 * (k % 6), 40.0 * (k // 6))
                for g in bundles.geometry
            ]
        )
        copies.append(copy)
    many = pd.concat(copies, ignore_index=True)  # in priority order: every bundle's copy 0 first
    many = many.sort_values("rank", kind="stable").reset_index(drop=True)
    return replace(result, bundling=replace(result.bundling, bundles=many))


@pytest.fixture(scope="module")
def crowded(crowded_run, tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("labels") / "overview.html"
    leaflet.save_map(maps.overview_map(crowded_run, "zh", "none"), path)
    maps.clear_cache()
    return path, list(crowded_run.bundling.bundles["bundle_id"])


def _labels(browser, path: Path, shot: Path) -> tuple[list[dict], list[str]]:
    page, errors, _, _ = open_page(browser, path, shot)
    found = page.evaluate(
        """() => Array.from(document.querySelectorAll('.lc-lbl')).map(e => {
             const r = e.getBoundingClientRect();
             return {id: e.textContent, x: r.left, y: r.top, w: r.width, h: r.height}; })"""
    )
    page.close()
    return found, errors


def test_crowded_bundle_labels_overlap_at_most_the_threshold(crowded, browser, tmp_path):
    path, ids = crowded
    found, errors = _labels(browser, path, tmp_path / "crowded.png")
    assert errors == []
    assert 19 <= len(found) < len(ids)
    boxes = [(f["x"], f["y"], f["x"] + f["w"], f["y"] + f["h"]) for f in found]
    assert worst_cover(boxes) <= ICON_OVERLAP + 0.02  # a pixel of rounding
    # priority order: the first-ranked bundle always gets its label
    assert ids[0] in {f["id"] for f in found}


def test_the_demo_bundles_every_label_shows(browser, demo_analysis, tmp_path):
    result = in_language(demo_analysis(("coverage", "bundle", "sites")), "zh")
    path = tmp_path / "overview.html"
    leaflet.save_map(maps.overview_map(result, "zh", "none"), path)
    maps.clear_cache()
    found, errors = _labels(browser, path, tmp_path / "demo.png")
    assert errors == []
    assert sorted(f["id"] for f in found) == sorted(result.bundling.bundles["bundle_id"])


def test_print_overview_thins_crowded_bundle_ids_and_says_so(crowded_run):
    """The print overview with 570 bundles: ids in priority order where they do not overlap,
    the first-ranked always, and a footnote giving how many are left off."""
    import matplotlib.pyplot as plt

    from spatial.outputs.printing import pack as printmap

    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._overview(printmap.MapBase(crowded_run), "zh")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ids = set(crowded_run.bundling.bundles["bundle_id"])
        tags = [t for t in fig.axes[0].texts if t.get_text() in ids]
        boxes = [t.get_window_extent(renderer) for t in tags]
        notes = [t.get_text() for t in fig.texts if "片区编号" in t.get_text()]
    plt.close(fig)
    assert 19 <= len(tags) < len(ids)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert crowded_run.bundling.bundles["bundle_id"].iloc[0] in {t.get_text() for t in tags}
    assert notes == [
        f"片区编号：按优先序标注{len(tags)}个，其余{len(ids) - len(tags)}个与已标注编号重叠未标"
        "（每个片区均有片区图则）"
    ]
