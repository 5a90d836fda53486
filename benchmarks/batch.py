"""``lifecircle batch`` against the same projects run one after another: N city-scale projects
(the generated city of benchmarks/whole_run.py: side² street nodes as OSM XML, 5,000
communities, 2,000 facilities, 2,000 parcels), each a copy in its own folder.

    python benchmarks/batch.py [--projects 16] [--communities 5000] [--side 300] [--workers N]
                               [--keep DIR] [--skip-serial]

One after another: ``lifecircle run`` per project as a child process (each run uses its forked
workers for the stages and outputs, as a single run does), wall time and each child's peak RSS.
Batch: the batch's own code (``dask_client`` + ``run_batch``, what ``lifecircle batch`` calls)
on a LocalCluster, wall time including the cluster's start, and per worker process its peak RSS
(``ru_maxrss`` reported by the project's task) and the projects it ran. Prints the load average
before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import whole_run  # noqa: E402

from spatial.workflow.batch import dask_client, read_batch, run_batch  # noqa: E402


def write_projects(root: Path, n: int, side: int, communities: int) -> Path:
    """``root/projects/city01..`` — the city written once and copied ``n`` times."""
    projects = root / "projects"
    first = projects / "city01"
    if not (first / "project.toml").exists():
        first.mkdir(parents=True, exist_ok=True)
        whole_run.write_case(first, side, communities)
    for k in range(2, n + 1):
        target = projects / f"city{k:02d}"
        if not target.exists():
            shutil.copytree(first, target, ignore=shutil.ignore_patterns("out"))
    return projects


def serial(projects: list[Path], out: Path) -> float:
    start = time.perf_counter()
    for config in projects:
        cmd = [sys.executable, "-m", "spatial", "run", "--config", str(config),
               "--out", str(out / config.parent.name)]  # fmt: skip
        wall, cpu, rss = whole_run.run_child(cmd)
        print(f"   {config.parent.name}: {wall:6.1f} s wall, CPU {cpu:6.1f} s, peak RSS "
              f"{rss:5.0f} MB", flush=True)  # fmt: skip
    return time.perf_counter() - start


def batched(folder: Path, out: Path, workers: int | None) -> float:
    batch = read_batch([folder])
    start = time.perf_counter()
    with dask_client("", workers, len(batch.projects)) as client:
        n = len(client.scheduler_info()["workers"])
        print(f"   LocalCluster: {n} workers, started in {time.perf_counter() - start:.1f} s")
        records = run_batch(batch, out, client)
    wall = time.perf_counter() - start
    per_worker: dict[int, list[dict]] = defaultdict(list)
    for r in records:
        per_worker[r["worker"]].append(r)
        if r["status"] != "ok":
            raise SystemExit(f"{r['name']} failed: {r['message']}")
    for pid, runs in per_worker.items():
        names = ", ".join(f"{r['name']} {r['seconds']:.1f} s" for r in runs)
        peak = max(r["peak_rss_mb"] for r in runs)
        print(f"   worker {pid}: peak RSS {peak:5.0f} MB; ran {names}", flush=True)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=16)
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--side", type=int, default=300)
    parser.add_argument("--workers", type=int, help="LocalCluster workers (default: auto)")
    parser.add_argument("--keep", type=Path, help="write the projects here and keep them")
    parser.add_argument("--skip-serial", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        folder = write_projects(root, args.projects, args.side, args.communities)
        configs = sorted(folder.glob("city*/project.toml"))[: args.projects]
        print(f"{len(configs)} projects of {args.communities} communities, {args.side}² street "
              f"nodes; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        one_by_one = None
        if not args.skip_serial:
            print("one after another (lifecircle run):", flush=True)
            one_by_one = serial(configs, root / "out_serial")
            print(f"   total {one_by_one:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
        print("batch (LocalCluster):", flush=True)
        together = batched(folder, root / "out_batch", args.workers)
        print(f"   total {together:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
        if one_by_one:
            print(f"batch / one after another: {together / one_by_one:.2f}")


if __name__ == "__main__":
    main()
