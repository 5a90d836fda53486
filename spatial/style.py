"""Map style shared by the HTML maps and the print map: colours and legend rows.

The lowest of the output modules: it knows nothing about Leaflet or matplotlib.
"""

from __future__ import annotations

from .messages import labels

GAP_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
TIER_COLOURS = {"priority": "#b2182b", "standard": "#ef8a62", "not_eligible": "#bdbdbd",
                "unknown": "#7570b3"}  # fmt: skip
CATEGORY_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                    "#f781bf", "#999999", "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854"]  # fmt: skip
SITE_COLOUR = "#6a00a8"
BUNDLE_COLOUR = "#08306b"


def gap_colour(gaps: float) -> str:
    """Colour of a community with ``gaps`` missing categories (the last colour for 4 and more)."""
    return GAP_COLOURS[int(min(max(gaps, 0), len(GAP_COLOURS) - 1))]


def category_colour(index: int) -> str:
    """Colour of the ``index``-th category of the standards table."""
    return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]


def gap_legend(lang: str) -> list[tuple[str, str]]:
    """(colour, text) rows of the gaps legend: 0, 1, … and "4+"."""
    last = len(GAP_COLOURS) - 1
    word = labels(lang)["gaps"]
    return [(c, f"{word} {i}" + ("+" if i == last else "")) for i, c in enumerate(GAP_COLOURS)]


def share_text(x: float) -> str:
    """A share (0–1) as planners print it, one rule for every map: a percentage with one decimal
    and no space (``0.0689`` → ``"6.9%"``); ``"–"`` for a missing or non-finite share."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "–"
    if value != value or value in (float("inf"), float("-inf")):
        return "–"
    return f"{value * 100:.1f}%"
