"""The streets of the print maps drawn once as an image (a large network: tens of thousands of
line segments would be drawn again on every page and stored on every PDF page), and the artist
that hands that image to the renderer pixel for pixel; a rendered page written as a PNG
(:mod:`spatial.outputs.printing.pack`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from matplotlib.artist import Artist
from matplotlib.transforms import Affine2D

from spatial.analysis.result import RunResult
from spatial.outputs import staging
from spatial.outputs.printing.draw import figure, lines
from spatial.outputs.printing.sheets import MAJOR, MINOR, street_classes

STREET_IMAGE_EDGES = 20_000  # above this many street edges, draw the streets once as an image


def draw_streets(ax, result: RunResult, scale: float = 1.0, within=None) -> None:
    """The street network as two line collections (minor light, major darker); only the streets
    crossing ``within`` (a geometry) when given."""
    if result.network is None:
        return
    minor, major = street_classes(result)
    if within is not None:
        minor = minor[shapely.intersects(minor, within)]
        major = major[shapely.intersects(major, within)]
    lines(ax, minor, MINOR, 0.4 * scale, zorder=1)
    lines(ax, major, MAJOR, 1.6 * scale, zorder=1)


def street_image(result: RunResult, extent, size: tuple[float, float], dpi: int) -> np.ndarray:
    """The street network rendered once into an RGBA image of a map box of ``size`` inches
    showing ``extent`` (xmin, xmax, ymin, ymax); the bottom row first, as the renderers take it
    (one copy for every page, not a flipped copy per page)."""
    fig = figure(size, dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_axis_off()
    fig.patch.set_alpha(0)
    draw_streets(ax, result, scale=1.0)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[::-1].copy()


class Raster(Artist):
    """A page-sized RGBA image of the map box (bottom row first, :func:`street_image`), handed to
    the renderer pixel for pixel: no resampling (``imshow`` of an image this size spent seconds
    resampling it on every save). Agg draws it at the axes' pixels; the PDF gets it at 150 dpi,
    stretched over the map box."""

    def __init__(self, image: np.ndarray, ax, half: np.ndarray | None = None) -> None:
        super().__init__()
        self.image, self._ax = image, ax
        self.half = image[::2, ::2] if half is None else half
        self.set_zorder(1)

    def draw(self, renderer) -> None:
        box = self._ax.bbox
        gc = renderer.new_gc()
        gc.set_clip_rectangle(box)
        if renderer.option_scale_image():  # PDF: half the pixels, stretched over the map box
            scale = Affine2D().scale(box.width, box.height)
            renderer.draw_image(gc, box.x0, box.y0, self.half, scale)
        else:
            renderer.draw_image(gc, box.x0, box.y0, self.image)
        gc.restore()


def write_png(rgba: np.ndarray, dpi: float, target: Path) -> Path:
    """Write the RGB channels of ``rgba`` as a PNG atomically, quickly compressed (an A3 page at
    300 dpi is 17 Mpx: the default compression took over a second per map). Runs in a worker
    thread: Pillow's encoder releases the GIL, so the next page draws meanwhile."""
    from PIL import Image

    with staging.atomic_path(target) as tmp:
        Image.fromarray(rgba).convert("RGB").save(
            tmp, format="png", compress_level=1, dpi=(dpi, dpi)
        )
    return target
