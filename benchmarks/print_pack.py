"""Print pack and ledger timings on the demo district and the 5,000-community city (wall and
CPU time: on a shared machine the CPU time is the steadier figure).

python benchmarks/print_pack.py            # both cases
python benchmarks/print_pack.py demo       # the demo only
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.config.project import load_project  # noqa: E402
from spatial.inputs.load import Layers  # noqa: E402
from spatial.outputs.ledger.write import write_ledger  # noqa: E402
from spatial.outputs.printing.pack import write_print_maps  # noqa: E402
from spatial.workflow.pipeline import RunResult, analyse, load_inputs  # noqa: E402

STAGES = ("coverage", "bundle", "sites")


def _demo() -> RunResult:
    project = load_project(None)
    project.render.basemap = "none"
    return analyse(load_inputs(project), STAGES)


def _city() -> RunResult:
    net = citycase.street_grid()
    project, std = citycase.core_project("城市规模基准")
    project.render.basemap = "none"
    layers = Layers(citycase.communities(), citycase.facilities(), citycase.parcels(), net.crs)
    return analyse(RunResult(project, std, layers, network=net), STAGES)


def _measure(name: str, result: RunResult) -> None:
    bundles = result.bundling.bundles if result.bundling else None
    print(f"{name}: {len(result.communities)} communities, "
          f"{0 if bundles is None else len(bundles)} bundles")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start, cpu = time.perf_counter(), time.process_time()
        files = write_print_maps(result, out, "zh")
        print(f"  print pack: {time.perf_counter() - start:.1f} s "
              f"(CPU {time.process_time() - cpu:.1f} s)")  # fmt: skip
        start, cpu = time.perf_counter(), time.process_time()
        files.append(write_ledger(result, out, "zh"))
        print(f"  ledger:     {time.perf_counter() - start:.1f} s "
              f"(CPU {time.process_time() - cpu:.1f} s)")  # fmt: skip
        for f in files:
            print(f"    {f.name:<18} {f.stat().st_size / 2**20:7.2f} MB")


def main(which: list[str]) -> None:
    if not which or "demo" in which:
        _measure("demo", _demo())
    if not which or "city" in which:
        _measure("city", _city())


if __name__ == "__main__":
    main(sys.argv[1:])
