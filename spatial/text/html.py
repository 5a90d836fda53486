"""Text into HTML: the one door through which text from the data enters a map page.

HTML is built as :class:`Html` (a :class:`markupsafe.Markup` whose escaping also covers Jinja2's
braces and closes any bidi embedding or override a value opens) with :func:`fragment` or
:func:`fragments` (the template is code, every argument is escaped) or :func:`esc`;
:func:`join` joins only :class:`Html`. :mod:`spatial.outputs.html.leaflet` hands folium nothing else.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import pandas as pd
from markupsafe import Markup, escape


class Html(Markup):
    """HTML built by the code. Text put into it is escaped — ``< > & " '`` and also ``{ }``:
    folium parses each layer's rendered script again as a Jinja2 template (branca's
    ``MacroElement``), so no brace from the data may reach it (a browser shows ``&#123;`` as ``{``).
    """

    __slots__ = ()

    @classmethod
    def escape(cls, s: object) -> Html:
        if isinstance(s, Html):  # only HTML built here is trusted, not any ``__html__`` object
            return s
        text = _UNIT_SPACE.sub("\u00a0", _closed_bidi(str(s)))
        return cls(str(escape(text)).replace("{", "&#123;").replace("}", "&#125;"))


#: The space between a number and its unit ("300 m", "3,152 m²", "15 min"): a line never breaks
#: there; every escaped text gets a non-breaking space in its place.
_UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:m²|km|m|min|h|ha)(?![A-Za-z]))")


_BIDI_OPEN = re.compile("[\u202a\u202b\u202d\u202e]|([\u2066-\u2068])")


def _closed_bidi(text: str) -> str:
    """``text`` with every bidi embedding, override or isolate it opens closed at its end (PDI,
    then PDF): a right-to-left override in a name reverses that name only, never the ids and
    numbers after it on the page (Unicode bidi rules X6a/X7; extra closers are ignored)."""
    opened = _BIDI_OPEN.findall(text)
    if not opened:
        return text
    isolates = sum(1 for g in opened if g)
    return text + "\u2069" * isolates + "\u202c" * (len(opened) - isolates)


def esc(value: object) -> Html:
    """Text from the data as HTML (escaped, see :class:`Html`); None/NaN → empty."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return Html("")
    return Html.escape(str(value))


def fragment(template: str, *args: object, **kwargs: object) -> Html:
    """An HTML fragment: ``template`` is code (``str.format`` fields), every argument is escaped
    unless it already is HTML (:class:`Html`)."""
    return Html(template).format(*args, **kwargs)


def fragments(template: str, *columns: Sequence[object]) -> list[Html]:
    """``[fragment(template, *row) for row in zip(*columns)]`` for many rows at once: the template
    is parsed once and each distinct argument of a column escaped once (the same escaping).
    Fields are positional, ``{}`` or ``{:spec}`` (no names, indices or conversions)."""
    literals, specs = [""], []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        literals[-1] += literal.replace("{", "{{").replace("}", "}}")
        if field is None:
            continue
        if field or conversion:
            raise ValueError(f"fragments: only {{}} fields, got {{{field}!{conversion}}}")
        specs.append(spec or "")
        literals.append("")
    if len(specs) != len(columns):
        raise ValueError(f"fragments: {len(specs)} fields, {len(columns)} columns")
    plain = "{}".join(literals)
    cells = [_escaped(column, spec) for column, spec in zip(columns, specs, strict=True)]
    return [Html(plain.format(*row)) for row in zip(*cells, strict=True)]


def _escaped(column: Sequence[object], spec: str) -> list[str]:
    """Each value as :meth:`Markup.format` puts it into a template: :class:`Html` as it is, other
    text formatted with ``spec`` and escaped; a repeated value (of the same type) escaped once.
    Numbers with a fraction are not remembered (``0.0`` equals ``-0.0`` but is written apart)."""
    done: dict[tuple, str] = {}
    out = []
    for value in column:
        try:
            key = None if isinstance(value, float) else (type(value), value)
            cell = done.get(key)
        except TypeError:  # unhashable: not remembered
            key, cell = None, None
        if cell is None:
            cell = _cell(value, spec)
            if key is not None:
                done[key] = cell
        out.append(cell)
    return out


def _cell(value: object, spec: str) -> str:
    if hasattr(value, "__html_format__"):
        text = value.__html_format__(spec)
    elif hasattr(value, "__html__"):
        if spec:
            raise ValueError(f"format {spec!r} given for HTML {type(value).__name__}")
        text = value.__html__()
    else:
        text = format(value, spec)
    return str(Html.escape(text))


def join(parts: list[Html], sep: str = "") -> Html:
    """Concatenate fragments (each must already be :class:`Html`)."""
    return Html(sep).join(require_html(p) for p in parts)


def require_html(value: object) -> Html:
    if not isinstance(value, Html):
        raise TypeError(
            f"HTML must be built with htmltext.fragment/esc, got {type(value).__name__}"
        )
    return value
