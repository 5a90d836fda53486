"""Bundle labels on the HTML map when a city has more than 400 bundles in view: at most 400 are
placed, in priority order, none over another (zoom in for more); with fewer, every one shows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import shapely
import shapely.affinity

from spatial import maps, render
from spatial.config import load_project
from spatial.pipeline import analyse, in_language, load_inputs

from .test_maps import _open, browser  # noqa: F401  (fixture)

COPIES = 30  # the demo's 19 bundles 30 times: 570 bundles crowded over the district


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> tuple[Path, list[str]]:
    project = load_project(None)
    project.render.basemap = "none"
    result = in_language(analyse(load_inputs(project), ("coverage", "bundle", "sites")), "zh")
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
    crowded_run = replace(result, bundling=replace(result.bundling, bundles=many))
    path = tmp_path_factory.mktemp("labels") / "overview.html"
    render.save_map(maps.overview_map(crowded_run, "zh", "none"), path)
    maps.clear_cache()
    return path, list(many["bundle_id"])


def _labels(browser, path: Path, shot: Path) -> tuple[list[dict], list[str]]:  # noqa: F811
    page, errors, _, _ = _open(browser, path, shot)
    found = page.evaluate(
        """() => Array.from(document.querySelectorAll('.lc-lbl')).map(e => {
             const r = e.getBoundingClientRect();
             return {id: e.textContent, x: r.left, y: r.top, w: r.width, h: r.height}; })"""
    )
    page.close()
    return found, errors


def test_over_400_bundles_in_view_place_at_most_400_labels_none_overlapping(
    crowded,
    browser,  # noqa: F811
    tmp_path,
):
    path, ids = crowded
    found, errors = _labels(browser, path, tmp_path / "crowded.png")
    assert errors == []
    assert 19 <= len(found) <= 400 < len(ids)
    boxes = [(f["x"], f["y"], f["x"] + f["w"], f["y"] + f["h"]) for f in found]
    over = [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1
    ]
    assert over == []
    # priority order: the first-ranked bundle always gets its label
    assert ids[0] in {f["id"] for f in found}


def test_under_400_bundles_every_label_shows(browser, tmp_path):  # noqa: F811
    project = load_project(None)
    project.render.basemap = "none"
    result = in_language(analyse(load_inputs(project), ("coverage", "bundle", "sites")), "zh")
    path = tmp_path / "overview.html"
    render.save_map(maps.overview_map(result, "zh", "none"), path)
    maps.clear_cache()
    found, errors = _labels(browser, path, tmp_path / "demo.png")
    assert errors == []
    assert sorted(f["id"] for f in found) == sorted(result.bundling.bundles["bundle_id"])
