"""Issue 22's grid of 9 streets drawn one line per street (not split at the crossings), as a
planning bureau's road layer: nodes, segments and the coverage headline it gives.

    python benchmarks/unsplit_roads.py [--presplit]

Writes a GBK Shapefile without .cpg (5 north–south and 4 east–west streets, ``道路等级`` 支路),
12 communities in the blocks and a basket of three facility kinds by the streets, runs
``lifecircle coverage`` and prints the network's nodes / segments / dropped nodes, the share of
street length in the largest part and ``full_coverage_households``. Run it on another checkout
with ``PYTHONPATH=/that/checkout`` to compare the readers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely

from spatial.cli import main as cli

X0, Y0 = 500_000.0, 4_060_000.0  # EPSG:4548, near Jinan
XS = [0, 200, 400, 600, 800]
YS = [0, 250, 500, 750]


def _write(folder: Path, presplit: bool) -> Path:
    streets = []
    for x in XS:
        cuts = YS if presplit else [YS[0], YS[-1]]
        streets += [[(x, a), (x, b)] for a, b in zip(cuts, cuts[1:], strict=False)]
    for y in YS:
        cuts = XS if presplit else [XS[0], XS[-1]]
        streets += [[(a, y), (b, y)] for a, b in zip(cuts, cuts[1:], strict=False)]
    lines = [shapely.LineString([(X0 + x, Y0 + y) for x, y in s]) for s in streets]
    roads = gpd.GeoDataFrame({"道路等级": ["支路"] * len(lines)}, geometry=lines, crs=4548)
    roads.to_file(folder / "roads.shp", encoding="gbk")
    (folder / "roads.cpg").unlink(missing_ok=True)
    boxes, names = [], []
    for i, x in enumerate(XS[:-1]):
        for j, y in enumerate(YS[:-1]):
            boxes.append(shapely.box(X0 + x + 70, Y0 + y + 95, X0 + x + 130, Y0 + y + 155))
            names.append(f"小区{i}{j}")
    gpd.GeoDataFrame(
        {"小区名称": names, "建成年代": "1995", "户数": 100}, geometry=boxes, crs=4548
    ).to_file(folder / "communities.gpkg")
    kinds = [("便利店", 200, 250), ("便利店", 600, 500), ("菜市场", 400, 375), ("幼儿园", 400, 250),
             ("便利店", 200, 625), ("幼儿园", 600, 600)]  # fmt: skip
    gpd.GeoDataFrame(
        {
            "名称": [f"{k}{i}" for i, (k, _, _) in enumerate(kinds)],
            "类别": [k for k, _, _ in kinds],
        },
        geometry=[shapely.Point(X0 + x, Y0 + y) for _, x, y in kinds],
        crs=4548,
    ).to_file(folder / "facilities.gpkg")
    (folder / "project.toml").write_text(
        '[project]\nname = "九条街"\n[communities]\npath = "communities.gpkg"\n'
        '[facilities]\npath = "facilities.gpkg"\n[network]\npath = "roads.shp"\n'
        '[coverage]\nbasket = ["便利店", "菜市场", "幼儿园"]\n',
        encoding="utf-8",
    )
    return folder / "project.toml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--presplit", action="store_true", help="the streets cut at crossings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = _write(Path(tmp), args.presplit)
        code = cli.main(["coverage", "--config", str(project), "--out", f"{tmp}/o"])
        if code:
            print(f"exit code {code}")
            return
        summary = json.loads(Path(f"{tmp}/o/summary.json").read_text("utf-8"))
    net, cov = summary["network"], summary["coverage"]
    print(
        f"nodes {net['nodes']}, segments {net['edges']}, dropped nodes "
        f"{net['dropped_disconnected_nodes']}, largest part {net.get('largest_part_share')}, "
        f"full_coverage_households {cov['full_coverage_households']}"
    )
    print("warnings:", [w["code"] for w in summary["warnings"]])


if __name__ == "__main__":
    main()
