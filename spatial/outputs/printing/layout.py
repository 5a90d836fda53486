"""The print layer shared by both drawing backends: where a map sits in its frame, its scale bar
and its north arrow, computed once in the map's own units (metres, north up).

:mod:`spatial.outputs.printing.draw` (matplotlib: the print maps) and
:mod:`spatial.outputs.printing.pdf` (fpdf2: the bundle sheets) only draw what these functions
return; neither has a rule of its own for the extent, the bar's length and label, or the arrow's
shape. How far a text sits from the bar or the arrow is the backend's (matplotlib aligns a text
by its box, fpdf2 by its top).

Knows nothing about the project's data or a drawing library: plain numbers in, plain numbers out.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the round lengths a scale bar may have (metres)
SCALE_LENGTHS_M = (20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)
SCALE_SHARE = 1 / 5  # a scale bar is the longest round length up to this share of the width
SCALE_INSET = 0.04  # the bar's right end and bottom: this share of the frame in from its corner
SCALE_HEIGHT = 0.008  # the bar's height, as a share of the frame's height
SCALE_PARTS = 4  # black and white in turn
ARROW_RIGHT, ARROW_BASE = 0.05, 0.14  # the arrow's x in from the right, its base down from the top
ARROW_LENGTH = 0.07  # the arrow's length, as a share of the frame's height
ARROW_HEAD = 0.4  # the head's length, as a share of the arrow's
ARROW_HEAD_WIDTH = 0.02  # the head's width, as a share of the frame's width
ARROW_SHAFT_WIDTH = 0.006  # the shaft's width, as a share of the frame's width

Extent = tuple[float, float, float, float]  # minx, miny, maxx, maxy (metres)


def fit_extent(bounds, box_w: float, box_h: float, margin: float) -> Extent:
    """The extent that shows ``bounds`` (minx, miny, maxx, maxy) in a box ``box_w`` × ``box_h``
    (any unit) at equal scale: the bounds plus ``margin`` (a share of each side) on every side,
    widened across or up to the box's shape; centred on the bounds. An empty or point-sized
    layer gets at least 1 m each way.

    Parameters
    ----------
    bounds : sequence of float
    box_w, box_h : float
        The box's width and height.
    margin : float

    Returns
    -------
    tuple of float
        (minx, miny, maxx, maxy).
    """
    x0, y0, x1, y1 = bounds
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    w, h = w * (1 + 2 * margin), h * (1 + 2 * margin)
    if w / h < box_w / box_h:
        w = h * box_w / box_h
    else:
        h = w * box_h / box_w
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def scale_length(width_m: float) -> int:
    """The scale bar's length for a map ``width_m`` metres across: the longest round length
    (:data:`SCALE_LENGTHS_M`) up to a fifth of the width, at least the shortest."""
    target = width_m * SCALE_SHARE
    return max(v for v in SCALE_LENGTHS_M if v <= max(target, SCALE_LENGTHS_M[0]))


def scale_label(length_m: int) -> str:
    """The label of a scale bar ``length_m`` long: ``500 m``, ``1 km``, ``2.5 km``."""
    return f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m} m"


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar in map units: its left end ``x``, bottom ``y``, ``height``, its ``length``
    (metres) and ``label``; ``parts`` are (left, width, black) of its black and white pieces.
    The label is centred above the bar, ``0`` under its left end."""

    x: float
    y: float
    length: int
    height: float
    label: str
    parts: tuple[tuple[float, float, bool], ...]

    @property
    def top(self) -> float:
        """The bar's top edge."""
        return self.y + self.height


def scale_bar(extent: Extent) -> ScaleBar:
    """The scale bar of a map showing ``extent`` (minx, miny, maxx, maxy): the lower right,
    :data:`SCALE_INSET` in from the corner.

    Parameters
    ----------
    extent : tuple of float

    Returns
    -------
    ScaleBar
    """
    x0, y0, x1, y1 = extent
    length = scale_length(x1 - x0)
    x, y = x1 - (x1 - x0) * SCALE_INSET - length, y0 + (y1 - y0) * SCALE_INSET
    piece = length / SCALE_PARTS
    parts = tuple((x + k * piece, piece, k % 2 == 0) for k in range(SCALE_PARTS))
    return ScaleBar(x, y, length, (y1 - y0) * SCALE_HEIGHT, scale_label(length), parts)


@dataclass(frozen=True)
class NorthArrow:
    """A north arrow in map units: its ``outline`` (a polygon, tip first, then clockwise), its
    ``tip`` (under the ``N``), the height ``base`` it starts from and its ``length``."""

    outline: tuple[tuple[float, float], ...]
    tip: tuple[float, float]
    base: float
    length: float


def north_arrow(extent: Extent) -> NorthArrow:
    """The north arrow of a map showing ``extent`` (the analysis CRS has north up): in the upper
    right, a shaft and a triangular head pointing up.

    Parameters
    ----------
    extent : tuple of float

    Returns
    -------
    NorthArrow
    """
    x0, y0, x1, y1 = extent
    x, base = x1 - (x1 - x0) * ARROW_RIGHT, y1 - (y1 - y0) * ARROW_BASE
    length = (y1 - y0) * ARROW_LENGTH
    tip = base + length
    neck = -length * ARROW_HEAD + tip  # where the head meets the shaft
    head, shaft = (x1 - x0) * ARROW_HEAD_WIDTH / 2, (x1 - x0) * ARROW_SHAFT_WIDTH / 2
    outline = (
        (x, tip),
        (head + x, neck),
        (shaft + x, neck),
        (shaft + x, -length + tip),
        (-shaft + x, -length + tip),
        (-shaft + x, neck),
        (-head + x, neck),
    )
    return NorthArrow(outline, (x, tip), base, length)
