"""Map size and render benchmark on the generated city (targets: overview.html under 15 MB at
5,000 communities and under 40 MB at 50,000, each drawn in under 10 s in Chromium).

    python benchmarks/maps.py                          # 5,000 communities, every output
    python benchmarks/maps.py --communities 50000      # only the HTML maps (report.write_maps)

Needs Debian chromium for the opening time: from navigation until data/maps.js has drawn the
store (the legend is filled) and two animation frames have been painted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.load import Layers  # noqa: E402
from spatial.pipeline import RunResult, analyse, write_outputs  # noqa: E402
from spatial.report import write_maps  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=5000)
    n = parser.parse_args().communities
    net = citycase.street_grid()
    project, std = citycase.core_project("城市规模基准")
    project.render.basemap = "none"
    comm = citycase.communities(n)
    layers = Layers(comm, citycase.facilities(), citycase.parcels(), net.crs)
    result = RunResult(project, std, layers, network=net)
    start = time.perf_counter()
    analyse(result, ("coverage", "bundle", "sites"))
    print(
        f"analysis (coverage, service areas, bundles, sites): {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start, cpu = time.perf_counter(), time.process_time()
        if n == 5000:
            write_outputs(result, out, ("coverage", "bundle", "sites", "map"), "zh")
            what = "write outputs (gpkg, 5 HTML maps, ledger, A3 PNG+PDF)"
        else:
            write_maps(result, out, "zh")
            what = "write the 5 HTML maps"
        print(
            f"{n:,} communities: {what}: {time.perf_counter() - start:.1f} s "
            f"(CPU {time.process_time() - cpu:.1f} s)"
        )
        print("timings:", {k: v for k, v in result.timings.items()})
        for f in sorted(out.iterdir()):
            print(f"  {f.name:<18} {f.stat().st_size / 2**20:7.1f} MB")
        chromium = shutil.which("chromium")
        if chromium:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page()
                start = time.perf_counter()
                page.goto((out / "overview.html").as_uri(), wait_until="load", timeout=300_000)
                page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=300_000)
                page.wait_for_selector(
                    "#lc-legend .lc-leg", timeout=300_000
                )  # maps.js drew the store
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                              "requestAnimationFrame(r)))")  # fmt: skip
                print(
                    f"overview.html opened in headless Chromium in {time.perf_counter() - start:.1f} s"
                )
                browser.close()
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
