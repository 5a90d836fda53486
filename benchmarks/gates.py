"""Gates benchmark: coverage from the outlines vs from gates on the city-sized case.

    python benchmarks/gates.py [--repeat 3]

One to three gates (seeded) on the outline of five in six communities of ``citycase``; times
``compute_coverage`` without gates, with gates (inner walk "none") and the ``mean`` inner walk
(:func:`spatial.network.gates.inner_walk`) on its own. The comparison with the outline rule is
included in the gated run (the same Dijkstra passes read through both access sets).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.network.gates import GateSet, inner_walk  # noqa: E402


def _gates(comm, seed: int = 26) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy, owner = [], []
    for i, poly in enumerate(comm.geometry.values):
        ring = shapely.get_exterior_ring(shapely.get_parts(poly)[0])
        for frac in rng.uniform(0, 1, int(rng.choice([0, 1, 1, 2, 2, 3]))):
            xy.append(
                shapely.get_coordinates(
                    shapely.line_interpolate_point(ring, frac, normalized=True)
                )[0]
            )
            owner.append(i)
    return np.array(xy), np.array(owner)


def _median(label: str, func, repeat: int):
    walls, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = func()
        walls.append(time.perf_counter() - start)
    print(
        f"{label:<52} median {np.median(walls):7.2f} s  (runs: {', '.join(f'{w:.2f}' for w in walls)})"
    )
    return value, float(np.median(walls))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    net = citycase.street_grid(args.side)
    comm, fac = citycase.communities(), citycase.facilities()
    project, std = citycase.core_project()
    xy, owner = _gates(comm)
    print(f"case: {net.n_nodes:,} nodes, {len(comm):,} communities, {len(fac):,} facilities, "
          f"{len(xy):,} gates on {len(np.unique(owner)):,} communities")  # fmt: skip
    cfg = project.coverage
    compute_coverage(comm, fac, std, cfg, net)  # builds the snap index once
    _median(
        "compute_coverage, outlines",
        lambda: compute_coverage(comm, fac, std, cfg, net),
        args.repeat,
    )
    polys = comm.geometry.values
    gates = GateSet(xy, owner, np.zeros(len(xy)))
    res, _ = _median(
        "compute_coverage, gates (+ outline comparison)",
        lambda: compute_coverage(comm, fac, std, cfg, net, None, gates),
        args.repeat,
    )
    _median("inner_walk mean", lambda: inner_walk(polys, xy, owner, "mean", 1.3), args.repeat)
    print(
        f"(full coverage from gates {res.communities['full_coverage'].mean():.1%} of communities)"
    )


if __name__ == "__main__":
    main()
