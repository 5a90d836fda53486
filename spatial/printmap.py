"""Print maps for meeting packs: A3 landscape PNG (300 dpi) and PDF with a CJK font, legend,
scale bar, north arrow and title.

Text from the data (project name, category labels, bundle ids) is drawn literally: the figure is
made and saved under :func:`print_style`, which turns off matplotlib's mathtext (``$…$``) for every
text, title and legend entry; nothing uses TeX.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import FancyArrow, Patch, Rectangle  # noqa: E402

from . import io  # noqa: E402
from .errors import DependencyError  # noqa: E402
from .messages import labels  # noqa: E402
from .style import BUNDLE_COLOUR, SITE_COLOUR, category_colour, gap_colour, gap_legend  # noqa: E402

A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
DPI = 300
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
                "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK TC",
                "Noto Sans SC", "AR PL UMing CN")  # fmt: skip


logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # bold falls back quietly


def cjk_font() -> str:
    """The first installed CJK font family, or a clear error saying what to install."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise DependencyError(
        "no Chinese (CJK) font found for the print map: install one, e.g. "
        "`apt-get install fonts-wqy-microhei` (Debian/Ubuntu); Windows and macOS already have one"
    )


def print_style(family: str) -> dict[str, object]:
    """matplotlib settings of the print map: the CJK ``family``, every text literal (no mathtext,
    no TeX), a hyphen for minus (CJK fonts lack the minus sign)."""
    return {"font.family": family, "axes.unicode_minus": False, "text.parse_math": False,
            "text.usetex": False}  # fmt: skip


def _scale_bar(ax) -> None:
    """A scale bar of a round length in the lower right (axes are in metres)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 5
    length = max(v for v in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000)
                 if v <= max(target, 50))  # fmt: skip
    bx, by = x1 - (x1 - x0) * 0.04 - length, y0 + (y1 - y0) * 0.04
    h = (y1 - y0) * 0.008
    for k in range(4):
        ax.add_patch(Rectangle((bx + k * length / 4, by), length / 4, h, lw=0.8, ec="black",
                               fc="black" if k % 2 == 0 else "white", zorder=10))  # fmt: skip
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(bx + length / 2, by + h * 1.8, label, ha="center", va="bottom", fontsize=11, zorder=10)
    ax.text(bx, by - h * 0.6, "0", ha="center", va="top", fontsize=9, zorder=10)


def _north_arrow(ax) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x1 - (x1 - x0) * 0.05, y1 - (y1 - y0) * 0.14
    dy = (y1 - y0) * 0.07
    ax.add_patch(FancyArrow(x, y, 0, dy, width=(x1 - x0) * 0.006, head_width=(x1 - x0) * 0.02,
                            head_length=dy * 0.4, length_includes_head=True, color="black", zorder=10))  # fmt: skip
    ax.text(x, y + dy * 1.08, "N", ha="center", va="bottom", fontsize=16, weight="bold", zorder=10)


def _lines(ax, geoms, colour: str, width: float) -> None:
    """Many lines as one collection (far faster than one artist per street)."""
    coords, owner = shapely.get_coordinates(np.asarray(geoms), return_index=True)
    if len(coords) == 0:
        return
    cuts = np.flatnonzero(np.diff(owner)) + 1
    ax.add_collection(
        LineCollection(np.split(coords, cuts), colors=colour, linewidths=width, zorder=1)
    )


def draw_overview(result, lang: str):
    """The overview print map as a matplotlib figure (communities by gaps, bundles, facilities, sites)."""
    with plt.rc_context(print_style(cjk_font())):
        return _draw_overview(result, lang)


def _draw_overview(result, lang: str):
    lab = labels(lang)
    comm = result.communities
    fig, ax = plt.subplots(figsize=A3_LANDSCAPE_IN, dpi=DPI)
    fig.subplots_adjust(left=0.03, right=0.80, top=0.90, bottom=0.04)
    handles = []
    if "gaps" in comm:
        colours = [gap_colour(g) for g in comm["gaps"]]
        handles += [Patch(fc=c, ec="#333", label=text) for c, text in gap_legend(lang)]
    else:
        colours = "#9ecae1"
    if result.network is not None:
        edges = result.network.edges
        major = (
            edges["highway"]
            .astype(str)
            .str.removesuffix("_link")
            .isin(result.project.bundling.barrier_highways)
        )
        _lines(ax, edges.geometry.values[~major.to_numpy()], "#d0d0d0", 0.4)
        _lines(ax, edges.geometry.values[major.to_numpy()], "#9a9a9a", 1.6)
    comm.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.3, zorder=2)
    bundles = result.layers_out.get("bundles")
    if bundles is not None and len(bundles):
        bundles.boundary.plot(ax=ax, color=BUNDLE_COLOUR, linewidth=1.6, linestyle="--", zorder=4)
        for _, b in bundles.iterrows():
            p = b.geometry.representative_point()
            ax.text(p.x, p.y, str(b["bundle_id"]), fontsize=9, weight="bold", color=BUNDLE_COLOUR, ha="center",
                    va="center", zorder=6, bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 0.5})  # fmt: skip
        handles.append(Patch(fc="none", ec=BUNDLE_COLOUR, ls="--", lw=1.6, label=lab["bundles"]))
    fac = result.layers.facilities
    for i, (key, cat) in enumerate(result.standards.categories.items()):
        pts = fac.loc[fac["category"] == key]
        if key in result.standards.basket and len(pts):
            colour = category_colour(i)
            pts.plot(ax=ax, color=colour, markersize=14, edgecolor="white", linewidth=0.4, zorder=5)
            handles.append(
                plt.Line2D([], [], marker="o", ls="", color=colour, label=cat.label(lang))
            )
    sites = result.layers_out.get("sites")
    if sites is not None and len(sites):
        sites.plot(ax=ax, color=SITE_COLOUR, alpha=0.6, edgecolor=SITE_COLOUR, zorder=3)
        handles.append(Patch(fc=SITE_COLOUR, alpha=0.6, label=lab["sites"]))
    ax.set_aspect("equal")
    ax.set_axis_off()
    _scale_bar(ax)
    _north_arrow(ax)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=11,
              title=lab["gaps_legend"], title_fontsize=12, frameon=False)  # fmt: skip
    fig.suptitle(str(result.project.name), fontsize=26, weight="bold", x=0.03, ha="left", y=0.97)
    cov = result.summary.get("coverage")
    sub = (
        f"{lab['generated']}: {dt.date.today().isoformat()}   CRS: {result.summary.get('crs', '')}"
    )
    if cov:
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        share, key = cov["full_coverage_households"], "full_share"
        if share is None:  # no household counts: the share of communities
            share, key = cov["full_coverage_communities"], "full_share_communities"
        sub = (f"{lab[key]} {share:.1%}（{lab['target']} "
               f"{cov['national_target']:.0%}）  {mode}   " + sub)  # fmt: skip
    fig.text(0.03, 0.925, sub, fontsize=13, ha="left")
    return fig


def write_print_maps(result, out: Path, lang: str) -> list[Path]:
    """``overview.png`` (A3 landscape, 300 dpi) and ``overview.pdf``, each written atomically."""
    fig = draw_overview(result, lang)
    files = []
    try:
        with plt.rc_context(print_style(cjk_font())):
            for suffix in ("png", "pdf"):
                target = out / f"overview.{suffix}"
                with io.atomic_path(target) as tmp:
                    fig.savefig(tmp, dpi=DPI, format=suffix)
                files.append(target)
    finally:
        plt.close(fig)
    return files
