"""PDF drawing primitives of the bundle sheets (fpdf2): pages in points from the top left, a map
view (an extent fitted to a box at equal scale, clipped to it), lines and filled polygons from
shapely geometries, text with its drawn box recorded, a legend, a metric scale bar and a north
arrow — the extent, the bar and the arrow as :mod:`spatial.outputs.printing.layout` computes them
(the same rules as the print maps' :mod:`spatial.outputs.printing.draw`).

fpdf2 keeps each glyph's width once per font, so laying out hundreds of sheets costs a few
milliseconds each (matplotlib shapes and loads every glyph of every text twice). Text is drawn
literally: fpdf2's ``text`` knows no markup; the caller passes data text through
:func:`spatial.text.printing.shown` first (which also writes a character the font lacks as its
escape). Knows nothing about the project's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from fpdf import FPDF
from fpdf.enums import TextMode

from spatial.outputs.printing import layout

A3_LANDSCAPE_PT = (420 / 25.4 * 72, 297 / 25.4 * 72)
ASCENT = 0.88  # the baseline below a line's top, in ems (CJK fonts: ~0.88)
BOLD_STROKE = 0.035  # faux bold: the glyph outline stroked this wide, in ems


@dataclass(frozen=True)
class Drawn:
    """A text as drawn: its string and box (points from the page's top left)."""

    text: str
    x: float
    y: float
    width: float
    height: float

    def overlaps(self, box: tuple[float, float, float, float]) -> bool:
        """Whether this text's box overlaps ``box`` (x, y, width, height)."""
        x, y, w, h = box
        return (
            self.x < x + w
            and x < self.x + self.width
            and self.y < y + h
            and y < self.y + self.height
        )


@dataclass(frozen=True)
class View:
    """A map extent (x0, y0, x1, y1 in metres) drawn into ``box`` (x, y, width, height in points)."""

    box: tuple[float, float, float, float]
    extent: tuple[float, float, float, float]

    @property
    def scale(self) -> float:
        """Points per metre."""
        return self.box[2] / (self.extent[2] - self.extent[0])

    def xy(self, coords: np.ndarray) -> np.ndarray:
        """Metres to page points (y down)."""
        out = np.empty_like(coords, dtype=float)
        out[:, 0] = self.box[0] + (coords[:, 0] - self.extent[0]) * self.scale
        out[:, 1] = self.box[1] + (self.extent[3] - coords[:, 1]) * self.scale
        return out


def fit_view(box: tuple[float, float, float, float], bounds, margin: float = 0.02) -> View:
    """``bounds`` (minx, miny, maxx, maxy) fitted to ``box``
    (:func:`spatial.outputs.printing.layout.fit_extent`: one metre the same length across and
    up)."""
    return View(box, layout.fit_extent(bounds, box[2], box[3], margin))


def _rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@dataclass
class Sheets:
    """A multi-page A3 landscape PDF in one embedded ``font`` (path, face index in a collection)."""

    font: tuple[str, int]
    pdf: FPDF = field(init=False)
    texts: list[Drawn] = field(default_factory=list)  # the current page's, for checking layout

    def __post_init__(self) -> None:
        self.pdf = FPDF(orientation="L", unit="pt", format="A3")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margin(0)
        path, index = self.font
        self.pdf.add_font("print", "", path, collection_font_number=index)
        self.pdf.set_font("print", size=10)

    def page(self) -> None:
        """Start a new page."""
        self.pdf.add_page()
        self.texts = []

    def width(self, line: str, size: float) -> float:
        """The drawn width of ``line`` at ``size`` points."""
        self.pdf.set_font_size(size)
        return self.pdf.get_string_width(line)

    def text(
        self,
        x: float,
        y: float,
        line: str,
        size: float,
        colour: str = "#000000",
        bold: bool = False,
        align: str = "left",
    ) -> Drawn:
        """One line whose top is at ``y``; ``x`` is its left, centre or right (``align``)."""
        pdf = self.pdf
        w = self.width(line, size)
        left = x - {"left": 0.0, "center": w / 2, "right": w}[align]
        mode = TextMode.FILL_STROKE if bold else TextMode.FILL
        with pdf.local_context(
            text_color=_rgb(colour),
            draw_color=_rgb(colour),
            text_mode=mode,
            line_width=size * BOLD_STROKE,
        ):
            pdf.text(left, y + size * ASCENT, line)
        drawn = Drawn(line, left, y, w, size * 1.2)
        self.texts.append(drawn)
        return drawn

    def block(
        self, x: float, y: float, lines: str, size: float, spacing: float = 1.4, **kw
    ) -> float:
        """Lines (``\\n``-separated) from the top ``y``; returns the height they took."""
        step = size * spacing
        rows = lines.split("\n")
        for k, line in enumerate(rows):
            if line:
                self.text(x, y + k * step, line, size, **kw)
        return step * len(rows)

    def lines(self, view: View, geoms, colour: str, width: float, dash: float = 0.0) -> None:
        """Lines (or polygons' rings, holes included) in one colour and width."""
        geoms = np.asarray(geoms)
        if not len(geoms):
            return
        if shapely.get_type_id(geoms).max() in (3, 6):
            geoms = shapely.boundary(geoms)
        coords, owner = shapely.get_coordinates(shapely.get_parts(geoms), return_index=True)
        if not len(coords):
            return
        pts = np.round(view.xy(coords), 2)
        counts = np.bincount(owner)[np.unique(owner)]
        two = np.repeat(counts == 2, counts)  # straight pieces (most streets): one line() each
        cuts = np.flatnonzero(np.diff(owner[~two])) + 1
        with self.pdf.local_context(draw_color=_rgb(colour), line_width=width):
            self.pdf.set_dash_pattern(dash, dash)
            line = self.pdf.line
            for x0, y0, x1, y1 in pts[two].reshape(-1, 4).tolist():
                line(x0, y0, x1, y1)
            if cuts.size or (~two).any():
                for part in np.split(pts[~two], cuts):
                    self.pdf.polyline(part.tolist())
            self.pdf.set_dash_pattern()

    def polygons(
        self,
        view: View,
        geoms,
        fills,
        edge: str | None = "#333333",
        width: float = 0.3,
        opacity: float = 1.0,
    ) -> None:
        """Polygons filled (one colour, or one per geometry) and outlined (exteriors; holes are
        outlined, not cut, as on the print maps)."""
        geoms = np.asarray(geoms)
        if not len(geoms):
            return
        colours = [fills] * len(geoms) if isinstance(fills, str) else list(fills)
        parts, owner = shapely.get_parts(geoms, return_index=True)
        keep = shapely.get_type_id(parts) == 3
        rings = shapely.get_exterior_ring(parts[keep])
        coords, ring = shapely.get_coordinates(rings, return_index=True)
        pts = np.round(view.xy(coords), 2)
        cuts = np.flatnonzero(np.diff(ring)) + 1
        style = "DF" if edge else "F"
        context = {"line_width": width, "fill_opacity": opacity}
        if edge:
            context["draw_color"] = _rgb(edge)
        with self.pdf.local_context(**context):
            for part, k in zip(np.split(pts, cuts), owner[keep], strict=True):
                self.pdf.set_fill_color(*_rgb(colours[k]))
                self.pdf.polygon(part.tolist(), style=style)
        with_holes = parts[keep][shapely.get_num_interior_rings(parts[keep]) > 0]
        if edge and len(with_holes):  # holes are outlined, not cut
            self.lines(view, [ring for p in with_holes for ring in p.interiors], edge, width)

    def clip(self, view: View):
        """A context in which drawing stays inside ``view``'s box."""
        return self.pdf.rect_clip(*view.box)

    def frame(self, view: View, colour: str = "#999999") -> None:
        """A thin frame around ``view``'s box."""
        with self.pdf.local_context(draw_color=_rgb(colour), line_width=0.5):
            self.pdf.rect(*view.box)

    def legend(
        self, view: View, entries: list[dict], size: float, title: str | None = None
    ) -> None:
        """A framed legend in the lower left of ``view``: each entry a swatch (``fill``,
        ``edge``, ``width``, ``opacity``, ``dash``) and its ``label``."""
        pad, row, swatch = size * 0.6, size * 1.6, size * 1.8
        labels = [e["label"] for e in entries] + ([title] if title else [])
        w = max(self.width(s, size) for s in labels) + swatch + 3 * pad
        h = row * len(labels) + pad
        x, y = view.box[0] + pad * 2, view.box[1] + view.box[3] - h - pad * 2
        with self.pdf.local_context(
            fill_color=(255, 255, 255),
            draw_color=(180, 180, 180),
            line_width=0.5,
            fill_opacity=0.85,
        ):
            self.pdf.rect(x, y, w, h, style="DF")
        top = y + pad
        if title:
            self.text(x + pad, top, title, size)
            top += row
        for e in entries:
            self._swatch(x + pad, top + size * 0.05, swatch, size, e)
            self.text(x + 2 * pad + swatch, top, e["label"], size)
            top += row

    def _swatch(self, x: float, y: float, w: float, h: float, entry: dict) -> None:
        fill, edge = entry.get("fill"), entry.get("edge")
        context = {"line_width": entry.get("width", 0.5), "fill_opacity": entry.get("opacity", 1.0)}
        if fill:
            context["fill_color"] = _rgb(fill)
        if edge:
            context["draw_color"] = _rgb(edge)
        style = ("D" if edge else "") + ("F" if fill else "")
        with self.pdf.local_context(**context):
            self.pdf.set_dash_pattern(entry.get("dash", 0.0), entry.get("dash", 0.0))
            self.pdf.rect(x, y, w, h, style=style or "D")
            self.pdf.set_dash_pattern()

    def scale_bar(self, view: View, size: float) -> None:
        """``view``'s scale bar (:func:`spatial.outputs.printing.layout.scale_bar`), its label
        just above it, ``0`` just under its left end."""
        bar = layout.scale_bar(view.extent)
        corners = view.xy(np.array([(x, bar.top) for x, _, _ in bar.parts] + [(bar.x, bar.y)]))
        (left, top), h = corners[0], corners[-1, 1] - corners[0, 1]
        with self.pdf.local_context(draw_color=(0, 0, 0), line_width=0.8):
            for (x, y), (_, w, black) in zip(corners, bar.parts, strict=False):
                self.pdf.set_fill_color(*((0, 0, 0) if black else (255, 255, 255)))
                self.pdf.rect(x, y, w * view.scale, h, style="DF")
        w = bar.length * view.scale
        self.text(left + w / 2, top - size * 1.3, bar.label, size, align="center")
        self.text(left, top + h * 1.5, "0", size - 2, align="center")

    def north_arrow(self, view: View, size: float) -> None:
        """``view``'s north arrow (:func:`spatial.outputs.printing.layout.north_arrow`) with an
        ``N`` just above its tip."""
        arrow = layout.north_arrow(view.extent)
        outline = view.xy(np.array(arrow.outline)).tolist()
        with self.pdf.local_context(fill_color=(0, 0, 0), draw_color=(0, 0, 0)):
            self.pdf.polygon(outline, style="DF")
        x, tip = view.xy(np.array([arrow.tip]))[0]
        self.text(x, tip - size * 1.25, "N", size, bold=True, align="center")

    def save(self, path: str | Path) -> None:
        """Write the document to ``path``."""
        self.pdf.output(str(path))
