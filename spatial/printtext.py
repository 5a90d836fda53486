"""Text on the print pack: data made inert and every line fitted to its place.

:func:`shown` is the one door through which text from the data (names, ids, labels, the project
name) enters a matplotlib text of the print pack: control and bidi characters are written as their
escapes, as on the terminal (:func:`spatial.messages.visible`), and a newline as ``\\n``, so a name
can neither be drawn as a missing glyph, reorder the line after it nor split a table row.

Widths are counted in half-width units (a CJK character two, others one, roughly an en at the
text's size): :func:`cut` shortens a line to its cell with "…", :func:`wrap` breaks a text into
the lines of its box and cuts the last with "…", :func:`fit` sets a line smaller, then cuts it.
"""

from __future__ import annotations

import unicodedata

from .messages import visible

ELLIPSIS = "…"
_BREAKS = " 、，；：。,;"


def shown(value: object) -> str:
    """``value`` as print text: control and bidi characters as escapes (``\\x1b``, ``\\u202e``),
    a newline as ``\\n`` and a tab as ``\\t`` (the terminal's rule)."""
    return visible(str(value)).replace("\n", "\\n").replace("\t", "\\t")


def _units(ch: str) -> float:
    """Half-width units of one character: CJK two, other characters a little over one (Latin
    letters of the CJK fonts are wider than half an em)."""
    return 2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1


def width(line: str) -> float:
    """The width of ``line`` in half-width units."""
    return sum(_units(ch) for ch in line)


def cut(line: str, units: float) -> str:
    """``line`` shortened to ``units`` with a trailing "…" when it is longer."""
    if width(line) <= units:
        return line
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
        line, last_break = "", -1
        for ch in para:
            line += ch
            if ch in _BREAKS:
                last_break = len(line)
            if width(line) > units:
                at = last_break if last_break > len(line) * 0.7 else len(line) - 1
                out.append(line[:at].rstrip())
                line = line[at:].lstrip()
                last_break = -1
        out.append(line)
    if lines is not None and len(out) > lines:
        out = out[: max(lines, 1)]
        last = out[-1]
        fits = width(last) + _units(ELLIPSIS) <= units
        out[-1] = last + ELLIPSIS if fits else cut(last + ELLIPSIS * 2, units)
    return "\n".join(out)


def fit(line: str, size: float, smallest: float, units: float) -> tuple[str, float]:
    """``line`` and its font size: ``size`` when it fits ``units`` (counted at ``size``), else
    smaller down to ``smallest``, and cut with "…" when even that is too long."""
    need = width(line) or 1.0
    fitted = max(smallest, min(size, size * units / need))
    return cut(line, units * size / fitted + 1e-9), fitted
