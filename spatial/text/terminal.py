"""Text into the terminal: the one door through which text from the data enters what the command
line prints (rich markup).

:func:`terminal_text` writes a value on one line with its control and bidi characters as escapes
(:func:`spatial.core.messages.visible` first, the rule every plain-text output shares);
:func:`markup` fills a catalogue message's fields into rich markup, every field escaped (the
template may hold markup, a field never does). :mod:`spatial.cli.terminal` prints through them.
"""

from __future__ import annotations

from numbers import Number
from string import Formatter

from rich.markup import escape

from spatial.core.messages import format_value, labels, visible


def terminal_text(value: object) -> str:
    """``value`` as data text on the terminal: a control or bidi character written as its escape
    (:func:`spatial.core.messages.visible`, applied first, e.g. ``\\x1b``), a newline as ``\\n``,
    so a name can neither colour, move nor reorder the screen nor split a line. A tab stays a
    tab and every character is left to the terminal's font (the print rule,
    :func:`spatial.text.printing.shown`, also escapes those).
    """
    return visible(str(value)).replace("\n", "\\n")


def markup(lang: str, key: str, **fields: object) -> str:
    """Catalogue message ``key`` as rich markup: the template may hold markup, the fields never do.

    Numbers are formatted by the template; any other field is escaped text, on one line, its
    control and bidi characters shown as escapes (:func:`terminal_text`). Rich reads a backslash
    only before ``[``, so a field's trailing backslashes are doubled just where the template goes
    on with ``[`` (``rich.markup.escape`` alone cannot know what follows).

    Parameters
    ----------
    lang : str
        ``zh`` or ``en`` (a key missing in ``lang`` falls back to English).
    key : str
        A ``cli_*`` key of ``data/i18n.toml``.
    **fields
        The template's fields.

    Returns
    -------
    str
    """
    template = labels(lang).get(key) or labels("en")[key]
    parts = list(Formatter().parse(template))
    out = []
    for k, (literal, name, spec, _) in enumerate(parts):
        out.append(literal)
        if name is None:
            continue
        value = fields[name]
        if isinstance(value, Number) or "|" in (spec or ""):
            out.append(format_value(value, spec or ""))  # "{n:one|many}" words too
            continue
        value = terminal_text(value)
        body = value.rstrip("\\")
        tail = value[len(body) :]
        follows = parts[k + 1][0] if k + 1 < len(parts) else ""
        out.append(escape(body) + (tail * 2 if follows.startswith("[") else tail))
    return "".join(out)
