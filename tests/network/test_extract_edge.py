"""Issue 12 follow-up: streets cut by the OSM extract's edge are counted and reported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS, Transformer

from spatial.network.read import read_network

from ..conftest import JINAN, to_4548


def _osm(path: Path, nodes: dict[int, tuple[float, float]], ways: dict[int, list[int]]) -> Path:
    """An OSM XML file of residential ways; node coordinates in metres from the test origin."""
    x0, y0 = to_4548(*JINAN)
    to_wgs = Transformer.from_crs(4548, 4326, always_xy=True)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (x, y) in nodes.items():
        lon, lat = to_wgs.transform(x0 + x, y0 + y)
        out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, refs in ways.items():
        out.append(f'  <way id="{wid}" version="1">')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out += ['    <tag k="highway" v="residential"/>', "  </way>"]
    path.write_text("\n".join([*out, "</osm>"]) + "\n", encoding="utf-8")
    return path


#: a street along the compounds (nodes 1–5), two side streets: way 20 runs off the file's edge
#: (node 98 is not in it), way 30 has no node in the file but one: nothing of it is kept
_NODES = {1: (-50, -20), 2: (100, -20), 3: (200, -20), 4: (300, -20), 5: (450, -20),
          6: (100, 150), 7: (200, 150)}  # fmt: skip
_WAYS = {10: [1, 2, 3, 4, 5], 20: [2, 6, 7, 98], 21: [3, 7], 30: [97, 5, 96]}


@pytest.mark.slow
def test_ways_cut_by_the_extract_are_counted_with_their_ids(tmp_path):
    net = read_network(_osm(tmp_path / "cut.osm", _NODES, _WAYS), CRS.from_epsg(4548))
    assert sorted(net.node_ids) == [1, 2, 3, 4, 5, 6, 7]  # way 20 kept its present part 2–6–7
    assert net.edges["length"].sum() == pytest.approx(500 + 170 + 100 + 170, abs=0.05)
    [found] = net.problems
    assert (found.code, found.layer, found.count, found.sample) == (
        "network_clipped_ways",
        "network",
        1,
        ("way/20",),
    )
    assert "1 streets are cut by the edge of the OSM extract" in found.message("en")
    assert "1 条道路被 OSM 文件的边界截断" in found.message("zh")


@pytest.mark.slow
def test_a_complete_extract_reports_no_clipped_ways(tmp_path):
    ways = {10: [1, 2, 3, 4, 5], 20: [2, 6, 7], 21: [3, 7]}
    net = read_network(_osm(tmp_path / "whole.osm", _NODES, ways), CRS.from_epsg(4548))
    assert net.problems == []


def test_summary_and_terminal_warn_about_clipped_ways(small_project, run_cli):
    _osm(small_project.parent / "cut.osm", _NODES, _WAYS)
    text = small_project.read_text("utf-8") + '[network]\npath = "cut.osm"\n'
    small_project.write_text(text, "utf-8")
    out_dir = small_project.parent / "out"
    code, out, _ = run_cli("coverage", "--config", small_project, "--out", out_dir, "--lang", "en")
    assert code == 0
    summary = json.loads((out_dir / "summary.json").read_text("utf-8"))
    [record] = [w for w in summary["warnings"] if w["code"] == "network_clipped_ways"]
    assert record["layer"] == "network" and record["count"] == 1
    assert record["sample"] == ["way/20"]
    assert "cut by the edge of the OSM extract" in " ".join(out.split())
    assert np.isfinite(summary["network"]["edges"])
