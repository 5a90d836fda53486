"""Map size and render benchmark on the 5,000-community city (target: overview.html under 15 MB
and opening in a few seconds).

    python benchmarks/maps.py            # needs Debian chromium for the opening time
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.load import Layers  # noqa: E402
from spatial.pipeline import RunResult, analyse, write_outputs  # noqa: E402


def main() -> None:
    net = citycase.street_grid()
    project, std = citycase.core_project("城市规模基准")
    project.render.basemap = "none"
    layers = Layers(citycase.communities(), citycase.facilities(), citycase.parcels(), net.crs)
    result = RunResult(project, std, layers, network=net)
    start = time.perf_counter()
    analyse(result, ("coverage", "bundle", "sites"))
    print(
        f"analysis (coverage, service areas, bundles, sites): {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        write_outputs(result, out, ("coverage", "bundle", "sites", "map"), "zh")
        print(
            f"write outputs (gpkg, 5 HTML maps, ledger, A3 PNG+PDF): {time.perf_counter() - start:.1f} s"
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
                page.goto((out / "overview.html").as_uri(), wait_until="load")
                page.wait_for_selector(".leaflet-overlay-pane canvas")
                page.wait_for_selector("#lc-legend .lc-leg")  # data/maps.js has drawn the store
                print(
                    f"overview.html opened in headless Chromium in {time.perf_counter() - start:.1f} s"
                )
                browser.close()
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
