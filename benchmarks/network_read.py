"""Network-reading benchmark: the one pyosmium reader vs osmnx ``graph_from_xml`` (the old path).

    python benchmarks/network_read.py [--side 300] [--repeat 3]

Writes the city case's street grid (``side``² nodes; 300 → 90,000) as OSM XML, ways of up to 8
edges along a row or column, and times ``read_network`` and ``osmnx.graph_from_xml`` on it
(alternated, median of ``repeat``). Both must give the same node and edge counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.network.read import read_network  # noqa: E402


def write_osm(path: Path, side: int) -> tuple[int, int]:
    """The street grid as OSM XML: (nodes, ways) written."""
    net = citycase.street_grid(side=side)
    lon, lat = Transformer.from_crs(4548, 4326, always_xy=True).transform(*net.node_xy.T)
    u, v = net.edges["u"].to_numpy(), net.edges["v"].to_numpy()
    highway = net.edges["highway"].to_numpy()
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="bench">']
    out += [f'  <node id="{i + 1}" version="1" lat="{b:.7f}" lon="{a:.7f}"/>'
            for i, (a, b) in enumerate(zip(lon, lat, strict=True))]  # fmt: skip
    ways, run = 0, []

    def flush() -> None:
        nonlocal ways, run
        if run:
            ways += 1
            out.append(f'  <way id="{ways}" version="1">')
            out.extend(f'    <nd ref="{n + 1}"/>' for n in [run[0][0], *(e[1] for e in run)])
            out.extend([f'    <tag k="highway" v="{run[0][2]}"/>', "  </way>"])
        run = []

    for k in np.lexsort((u, v - u)):  # rows, then columns, each in order
        edge = (int(u[k]), int(v[k]), highway[k])
        if run and (run[-1][1] != edge[0] or len(run) >= 8 or run[-1][2] != edge[2]):
            flush()
        run.append(edge)
    flush()
    path.write_text("\n".join([*out, "</osm>"]) + "\n", encoding="utf-8")
    return len(lon), ways


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import osmnx as ox

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "city.osm"
        nodes, ways = write_osm(path, args.side)
        print(f"{path.stat().st_size / 1e6:.1f} MB OSM XML, {nodes} nodes, {ways} ways")
        times: dict[str, list[float]] = {"pyosmium read_network": [], "osmnx graph_from_xml": []}
        for _ in range(args.repeat):
            start = time.perf_counter()
            net = read_network(path, CRS.from_epsg(4548))
            times["pyosmium read_network"].append(time.perf_counter() - start)
            start = time.perf_counter()
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True)
            times["osmnx graph_from_xml"].append(time.perf_counter() - start)
        print(f"ours: {net.n_nodes} nodes, {len(net.edges)} edges; "
              f"osmnx: {graph.number_of_nodes()} nodes, {graph.number_of_edges() // 2} edges")  # fmt: skip
        for label, values in times.items():
            print(f"{label:<24} median {statistics.median(values):6.2f} s  "
                  f"({', '.join(f'{t:.2f}' for t in values)})")  # fmt: skip


if __name__ == "__main__":
    main()
