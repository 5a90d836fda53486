"""CPU time of writing the five HTML maps (``report.write_maps``: overview + four group maps) in
one process, analysed once (target at 5,000 communities: at most 2.5 CPU-s).

    python benchmarks/maps_cpu.py                        # the generated 5,000-community city
    python benchmarks/maps_cpu.py --project project.toml # a project's own data
    python benchmarks/maps_cpu.py --profile              # also the top of a cProfile

CPU time (user + system of this process), which a shared machine inflates less than the clock;
the first write is left out (imports, vendored assets read), then the minimum and median of
``--repeat`` writes, the file sizes and the load average.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.config.project import load_project  # noqa: E402
from spatial.inputs.load import Layers  # noqa: E402
from spatial.outputs.html.write import write_maps  # noqa: E402
from spatial.workflow.pipeline import ALL_STAGES, RunResult, analyse, in_language, load_inputs  # noqa: E402


def _result(project_file: str | None) -> RunResult:
    if project_file:
        result = load_inputs(load_project(project_file))
        return analyse(result, ALL_STAGES)
    net = citycase.street_grid()
    project, std = citycase.core_project("城市规模基准")
    project.render.basemap = "none"
    layers = Layers(citycase.communities(5000), citycase.facilities(), citycase.parcels(), net.crs)
    return analyse(RunResult(project, std, layers, network=net), ("coverage", "bundle", "sites"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", help="project.toml (default: the generated city)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    shown = in_language(_result(args.project), "zh")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        write_maps(shown, out, "zh")  # warm: imports, vendored assets
        cpu = []
        for _ in range(args.repeat):
            start = time.process_time()
            write_maps(shown, out, "zh")
            cpu.append(time.process_time() - start)
        print(
            f"write_maps CPU: min {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s "
            f"({', '.join(f'{c:.2f}' for c in cpu)}; load average {os.getloadavg()[0]:.1f})"
        )
        for f in sorted(out.iterdir()):
            print(f"  {f.name:<16} {f.stat().st_size:>12,} B")
        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(write_maps, shown, out, "zh")
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(30)
            stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
