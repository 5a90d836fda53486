"""Bytes of an HTML map's embedded data, by layer: what makes a page heavy.

    python benchmarks/page_layers.py OUT/overview.html [--top 30]

A page carries its data in two places: the store that ``spatial/outputs/html/maps.js`` draws
(``window.LC_STORE``: communities, bundles, parcels, streets, service areas, facilities, …; each
part listed as ``store <part>.<sub>``) and the data of the folium layers (outlines: each listed
under its name in the layer control). The rest (Leaflet and plugins inlined, the
page's code and panels) is listed as ``code, styles and panels``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

_STORE = "window.LC_STORE = "


def _store(html: str) -> tuple[dict, int, int]:
    start = html.index(_STORE) + len(_STORE)
    end = html.index(";</script>", start)
    return json.loads(html[start:end]), start, end


def store_parts(html: str) -> list[tuple[str, int]]:
    """Bytes of each part of a page's store (``comm.geom``, ``areas.0``, …)."""
    store, _, _ = _store(html)
    parts = []
    for key, value in store.items():
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            items = [(str(i), v) for i, v in enumerate(value)]  # e.g. one service area each
        else:
            items = [("", value)]
        for sub, v in items:
            name = v.get("name", "") if isinstance(v, dict) else ""
            text = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
            label = f"store {key}.{sub}".rstrip(".") + (f" ({name})" if name else "")
            parts.append((label, len(text.encode())))
    return parts


def folium_parts(html: str) -> list[tuple[str, int]]:
    """Bytes of the data of each folium layer, under its name in the layer control (a layer
    inside a feature group under the group's name)."""
    store, _, _ = _store(html)
    names = {o["ref"]: o["name"] for o in store.get("overlays", [])}
    parent = dict(re.findall(r"(\w+)\.addTo\((\w+)\);", html))
    sizes: dict[str, int] = {}
    for m in re.finditer(r"^\s*(\w+)_add\((.*)\);$", html, flags=re.M):
        ref = m.group(1)
        while ref not in names and ref in parent:
            ref = parent[ref]
        label = f"layer {names.get(ref, ref)}"
        sizes[label] = sizes.get(label, 0) + len(m.group(2).encode())
    return list(sizes.items())


def layer_bytes(page: Path) -> list[tuple[str, int]]:
    """Every part of ``page``'s data (:func:`store_parts`, :func:`folium_parts`) and the rest,
    largest first."""
    html = page.read_text("utf-8")
    parts = store_parts(html) + folium_parts(html)
    rest = len(html.encode()) - sum(size for _, size in parts)
    return sorted([*parts, ("code, styles and panels", rest)], key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("page", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    total = args.page.stat().st_size
    print(f"{args.page.name}: {total / 1e6:.2f} MB")
    for part, size in layer_bytes(args.page)[: args.top]:
        print(f"  {part:<60} {size / 1e6:8.3f} MB  {size / total:6.1%}")


if __name__ == "__main__":
    main()
