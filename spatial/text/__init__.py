"""The one door for text from the data into each output format, one module per format:

- :mod:`~spatial.text.html` — map pages: :func:`~spatial.text.html.esc` and the
  :class:`~spatial.text.html.Html` fragments (``< > & " '`` and Jinja2's braces escaped, bidi
  embeddings closed);
- :mod:`~spatial.text.printing` — print maps and sheets: :func:`~spatial.text.printing.shown`
  (one line, controls, bidi marks, tabs and glyphs the font lacks as escapes), plus fitting a
  line to its room;
- :mod:`~spatial.text.terminal` — the command line: :func:`~spatial.text.terminal.terminal_text`
  (one line, controls and bidi marks as escapes) and :func:`~spatial.text.terminal.markup`
  (catalogue messages as rich markup, every field escaped);
- :mod:`~spatial.text.sheet` — the ledger's cells: :func:`~spatial.text.sheet.cell_value` (no
  character XML cannot hold, within Excel's limits; text never a formula).

Each name means one rule. The rule the plain-text outputs share — a control or bidi character
written as its escape — is :func:`spatial.core.messages.visible`, kept in ``core`` (the lowest
layer, which may not import this one) because an error's own line (``str(InputError)``) and the
command line's stderr apply it too; ``printing`` and ``terminal`` apply it first.
"""
