"""Text on the print pack: data made inert and every line fitted to its place.

:func:`shown` is the one door through which text from the data (names, ids, labels, the project
name) enters a text of the print pack, the maps (matplotlib) and the sheets (fpdf2): control and
bidi characters are written as their escapes (:func:`spatial.core.messages.visible` first, the rule
every plain-text output shares), a newline as ``\\n``, a tab as ``\\t`` and a character the print
font lacks as its escape, so a name can neither be drawn as a missing glyph, reorder the line
after it nor split a table row. (The terminal's rule, :func:`spatial.text.terminal.terminal_text`,
keeps tabs and leaves glyphs to the terminal's font: another name for another rule.)

:func:`cut` shortens a line to its cell with "…" and :func:`fit` sets a line smaller, then cuts it
(both measure the text in the current font); :func:`wrap` breaks a text into the lines of its box
(counted in half-width units: a CJK character two, others one) and cuts the last with "…".
"""

from __future__ import annotations

import unicodedata
from functools import cache, partial

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from spatial.core.errors import DependencyError
from spatial.core.messages import visible

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK TC",
    "Noto Sans SC",
    "AR PL UMing CN",
)
ELLIPSIS = "…"
_BREAKS = " 、，；：。,;"
_MEASURE = TextToPath()


def shown(value: object) -> str:
    """``value`` as print text: control and bidi characters as escapes (``\\x1b``, ``\\u202e``),
    a newline as ``\\n`` and a tab as ``\\t`` (the terminal's rule), and a character the print
    font has no glyph for (an emoji, a rare ideograph) as its escape too (``\\U0001f600``):
    shown the same on the maps and the sheets, never a blank box or nothing."""
    line = visible(str(value)).replace("\n", "\\n").replace("\t", "\\t")
    glyphs = _glyphs()
    if glyphs is None or all(ord(ch) in glyphs for ch in line):
        return line
    return "".join(
        ch if ord(ch) in glyphs else ch.encode("unicode_escape").decode("ascii") for ch in line
    )


def cjk_font() -> str:
    """The first installed CJK font family, or a clear error saying what to install.

    matplotlib lists the fonts it found when its cache was built: a font installed since then
    (``apt-get install fonts-wqy-microhei`` after a first run) is not in it. When no family is
    found, the font files on the system now (``findSystemFonts``: fontconfig's list on Linux) that
    the cache does not know are added to it once, and the families looked up again.
    """
    for _ in range(2):
        installed = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in installed:
                return family
        if not _add_new_fonts():
            break
    import matplotlib

    raise DependencyError("err_no_cjk_font", cache=matplotlib.get_cachedir())


_SCANNED: list[bool] = []  # the system's fonts were compared with the cache (once a process)


def _add_new_fonts() -> bool:
    """Add the system's font files that matplotlib's (stale) cache does not list; True if any."""
    if _SCANNED:
        return False
    _SCANNED.append(True)
    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            manager.addfont(path)
            added = True
        except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
            continue
    return added


def _glyphs() -> frozenset[int] | None:
    """The code points the print font draws (None without a CJK font: nothing to print)."""
    return _family_glyphs(CJK_FAMILIES)


@cache
def _family_glyphs(families: tuple[str, ...]) -> frozenset[int] | None:
    # cached per list of families (the font found for it does not change during a run)
    try:
        return _font_glyphs(*font_file(cjk_font()))
    except DependencyError:
        return None


@cache
def _font_glyphs(path: str, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def extent(line: str, size: float, weight: str = "normal", family: str | None = None) -> float:
    """The drawn width of ``line`` in points at ``size`` (the current font unless ``family``)."""
    if not line:
        return 0.0
    prop = FontProperties(family=family, size=size, weight=weight)
    return _MEASURE.get_text_width_height_descent(line, prop, ismath=False)[0]


def font_file(family: str) -> tuple[str, int]:
    """The file of the installed font ``family`` (as matplotlib finds it) and the index of the
    family's face in it (a collection, ``.ttc``, holds several: e.g. JP, KR, SC, TC)."""
    found = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
    path = str(found)
    if getattr(found, "face_index", None) is not None:  # matplotlib >= 3.10 knows the face
        return path, int(found.face_index)
    if not path.lower().endswith((".ttc", ".otc")):
        return path, 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as faces:
        for index, face in enumerate(faces):
            names = {str(r) for r in face["name"].names if r.nameID in (1, 16)}
            if family in names:
                return path, index
    return path, 0


def _fits(line: str, room: float, size: float, weight: str, family: str | None, measure) -> bool:
    if measure is not None:  # a cheap measure, which may widen what it cannot draw
        return measure(line, size) <= room
    # no glyph is wider than about an em: a short line needs no measuring
    return len(line) * size * 1.05 <= room or extent(line, size, weight, family) <= room


def cut(
    line: str, room: float, size: float, weight: str = "normal", family=None, measure=None
) -> str:
    """``line`` shortened with a trailing "…" to ``room`` points at ``size`` when it is wider
    (measured in the current matplotlib font, or by ``measure(line, size)`` when given)."""
    if _fits(line, room, size, weight, family, measure):
        return line
    low, high = 0, min(len(line), int(room / (0.2 * size)) + 1)  # no glyph is under 0.2 em
    while low < high:  # the longest prefix that fits with the ellipsis
        mid = (low + high + 1) // 2
        if _fits(line[:mid].rstrip() + ELLIPSIS, room, size, weight, family, measure):
            low = mid
        else:
            high = mid - 1
    return line[:low].rstrip() + ELLIPSIS


def fit(
    line: str,
    size: float,
    smallest: float,
    room: float,
    weight: str = "normal",
    family=None,
    measure=None,
) -> tuple[str, float]:
    """``line`` and its font size: ``size`` when it fits ``room`` points, else smaller down to
    ``smallest``, and cut with "…" when even that is too wide (measured as :func:`cut`)."""
    if _fits(line, room, size, weight, family, measure):
        return line, size
    drawn = (measure or partial(extent, weight=weight, family=family))(line, size)
    fitted = max(smallest, size * room / drawn)
    return cut(line, room + 0.01, fitted, weight, family, measure), fitted


def _units(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def width(line: str) -> int:
    """The width of ``line`` in half-width units (a CJK character two, others one)."""
    return sum(_units(ch) for ch in line)


def _cut_units(line: str, units: int) -> str:
    out, used = "", _units(ELLIPSIS)
    for ch in line:
        used += _units(ch)
        if used > units:
            break
        out += ch
    return out.rstrip() + ELLIPSIS


def wrap(text: str, units: float, lines: int | None = None) -> str:
    """``text`` in lines of at most ``units``, broken after a space or CJK punctuation near the
    end of a line, else anywhere; at most ``lines`` lines, the last cut with "…" when more."""
    out: list[str] = []
    for para in str(text).split("\n"):
        line, used, last_break = "", 0, -1
        for ch in para:
            line += ch
            used += _units(ch)
            if ch in _BREAKS:
                last_break = len(line)
            if used > units:
                at = last_break if last_break > len(line) * 0.7 else len(line) - 1
                out.append(line[:at].rstrip())
                line = line[at:].lstrip()
                used, last_break = width(line), -1
        out.append(line)
    if lines is not None and len(out) > lines:
        out = out[: max(lines, 1)]
        last = out[-1]
        fits = width(last) + _units(ELLIPSIS) <= units
        out[-1] = last + ELLIPSIS if fits else _cut_units(last, units)
    return "\n".join(out)
