"""Map size and render benchmark on the generated city (targets: overview.html under 15 MB at
5,000 communities and under 40 MB at 50,000, each drawn in under 10 s in Chromium).

    python benchmarks/maps.py                          # 5,000 communities, every output
    python benchmarks/maps.py --communities 50000      # only the HTML maps (report.write_maps)
    python benchmarks/maps.py --case patchy            # 90 m irregular streets, patchy areas
    python benchmarks/maps.py --maps-only              # 5,000 communities, only the HTML maps

Needs Debian chromium for the opening time: from navigation until spatial/outputs/html/maps.js has drawn the
store (the legend is filled) and two animation frames have been painted; with the CPU time of the
browser's processes over that span (less noisy than the clock on a shared machine). Then the
facility icons and bundle labels drawn in the view (and the marker elements in the page), and the
most any two drawn ones overlap (share of the smaller box), at the first view and one zoom step
in, with the time of that step. The bytes of
each layer of the overview (benchmarks/page_layers.py) are listed, largest first. ``--case grid``
(default) is the 450×450 40 m grid over 17.8 km; ``--case patchy`` the patchy city of
benchmarks/citycase.py (300×300 nodes at 90 m, ±30 m, over 27 km).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402
import page_layers  # noqa: E402

from spatial.inputs.load import Layers  # noqa: E402
from spatial.outputs.html.write import write_maps  # noqa: E402
from spatial.workflow.pipeline import RunResult, analyse, in_language, write_outputs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--case", choices=sorted(citycase.CASES), default="grid")
    parser.add_argument("--maps-only", action="store_true", help="write only the HTML maps")
    parser.add_argument("--shots", type=Path, help="keep overview.html and screenshots here")
    args = parser.parse_args()
    n = args.communities
    if args.case == "grid":
        net, extent = citycase.street_grid(), 17_800.0
    else:
        net, extent = citycase.CASES[args.case].network(), citycase.CASES[args.case].extent
    project, std = citycase.core_project("城市规模基准")
    project.render.basemap = "none"
    comm = citycase.communities(n, extent=extent)
    layers = Layers(
        comm, citycase.facilities(extent=extent), citycase.parcels(extent=extent), net.crs
    )
    result = RunResult(project, std, layers, network=net)
    start = time.perf_counter()
    analyse(result, ("coverage", "bundle", "sites"))
    print(
        f"analysis (coverage, service areas, bundles, sites): {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        start, cpu = time.perf_counter(), time.process_time()
        if n == 5000 and not args.maps_only:
            write_outputs(result, out, ("coverage", "bundle", "sites", "map"), "zh")
            what = "write outputs (gpkg, 5 HTML maps, ledger, A3 PNG+PDF)"
        else:
            write_maps(in_language(result, "zh"), out, "zh")  # as write_outputs does
            what = "write the 5 HTML maps"
        print(
            f"{n:,} communities: {what}: {time.perf_counter() - start:.1f} s "
            f"(CPU {time.process_time() - cpu:.1f} s)"
        )
        print("timings:", {k: v for k, v in result.timings.items()})
        for f in sorted(out.iterdir()):
            print(f"  {f.name:<18} {f.stat().st_size / 1e6:7.1f} MB ({f.stat().st_size:,} B)")
        for part, size in page_layers.layer_bytes(out / "overview.html")[:12]:
            print(f"    {part:<40} {size / 1e6:6.2f} MB")
        chromium = shutil.which("chromium")
        if chromium:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page()
                start, cpu = time.perf_counter(), _children_cpu()
                page.goto((out / "overview.html").as_uri(), wait_until="load", timeout=300_000)
                page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=300_000)
                page.wait_for_selector(
                    "#lc-legend .lc-leg", timeout=300_000
                )  # maps.js drew the store
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                              "requestAnimationFrame(r)))")  # fmt: skip
                print(
                    f"overview.html opened in headless Chromium in {time.perf_counter() - start:.1f} s"
                    f" (browser CPU {_children_cpu() - cpu:.1f} s, load average "
                    f"{os.getloadavg()[0]:.1f})"
                )
                _icons(page, "first view")
                if args.shots:
                    args.shots.mkdir(parents=True, exist_ok=True)
                    shutil.copy(out / "overview.html", args.shots)
                    page.screenshot(path=str(args.shots / "first_view.png"))
                start = time.perf_counter()
                page.evaluate(_ZOOM_IN)
                _icons(page, f"one zoom step in ({time.perf_counter() - start:.2f} s)")
                if args.shots:
                    page.screenshot(path=str(args.shots / "zoom_in.png"))
                browser.close()
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")


_MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"
_ZOOM_IN = f"""() => new Promise(r => {{ const m = {_MAP};
  m.setZoom(m.getZoom() + 1, {{animate: false}});
  requestAnimationFrame(() => requestAnimationFrame(r)); }})"""
_ICONS = f"""() => {{ const m = {_MAP}, out = {{zoom: m.getZoom()}};
  const inView = sel => [...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
    .filter(r => r.right > 0 && r.left < innerWidth && r.bottom > 0 && r.top < innerHeight);
  const icons = inView('.leaflet-marker-pane .lc-ico'), labels = inView('.leaflet-marker-pane .lc-lbl');
  const boxes = icons.concat(labels);
  let worst = 0;
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {{
    const a = boxes[i], b = boxes[j];
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 0 && h > 0) worst = Math.max(worst, w * h / Math.min(a.width * a.height, b.width * b.height));
  }}
  return Object.assign(out, {{icons: icons.length, labels: labels.length, worst: worst,
    badges: document.querySelectorAll('.lc-more').length,
    markers: document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').length}}); }}"""


def _icons(page, when: str) -> None:
    c = page.evaluate(_ICONS)
    print(
        f"  {when}, zoom {c['zoom']}: {c['icons']} facility icons and {c['labels']} bundle labels "
        f"in view ({c['badges']} with a badge), {c['markers']} marker elements in the page; "
        f"most two drawn overlap: {c['worst']:.0%} of the smaller"
    )


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's descendants still running (the browser)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            parent[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [os.getpid()]
    while todo:
        me = todo.pop()
        for pid, pp in parent.items():
            if pp == me:
                total += cpu[pid]
                todo.append(pid)
    return total


if __name__ == "__main__":
    main()
