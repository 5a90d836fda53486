"""Map style shared by the HTML maps and the print map: colours and legend rows.

The lowest of the output modules: it knows nothing about Leaflet or matplotlib.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .messages import labels

GAP_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
TIER_COLOURS = {
    "priority": "#b2182b",
    "standard": "#ef8a62",
    "not_eligible": "#bdbdbd",
    "unknown": "#7570b3",
}
CATEGORY_COLOURS = [
    "#e41a1c",
    "#377eb8",
    "#4daf4a",
    "#984ea3",
    "#ff7f00",
    "#a65628",
    "#f781bf",
    "#999999",
    "#66c2a5",
    "#fc8d62",
    "#8da0cb",
    "#e78ac3",
    "#a6d854",
]
SITE_COLOUR = "#6a00a8"
BUNDLE_COLOUR = "#08306b"
# bundle fills: distinct hues, neighbouring bundles get different ones (adjacency colouring)
BUNDLE_COLOURS = [
    "#1f78b4",
    "#e31a1c",
    "#33a02c",
    "#ff7f00",
    "#6a3d9a",
    "#b15928",
    "#a6cee3",
    "#fb9a99",
    "#b2df8a",
    "#fdbf6f",
]
CANDIDATE_COLOUR = "#7a7a7a"
PARTNER_COLOUR = "#01665e"
STREET_COLOUR = "#b8b8b8"
SHARE_DECIMALS = 1  # the one rounding rule for shares, HTML and print alike


def share_text(x: float | None) -> str:
    """A share (0–1) as the maps print it, e.g. ``0.06912`` → ``"6.9%"`` (one decimal, half up
    from the share rounded to 4 decimals as in ``summary.json``; ``data/maps.js`` does the same);
    ``"–"`` for a missing or non-finite share."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(value):
        return "–"
    tenths = int(np.floor(round(value, 4) * 10 ** (2 + SHARE_DECIMALS) + 0.5))
    return f"{tenths / 10**SHARE_DECIMALS:.{SHARE_DECIMALS}f}%"


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


def share_weights(comm: pd.DataFrame, households_known: bool) -> np.ndarray:
    """What a coverage share counts: households (blank ones weigh 0, so they are out of both
    sides of the share), or one per community when the project has no households."""
    if not households_known:
        return np.ones(len(comm))
    return comm["households"].fillna(0).to_numpy(float)
