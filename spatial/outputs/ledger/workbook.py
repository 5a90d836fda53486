"""Frames as formatted Excel sheets that hold text, never formulas (the ledger's cell writer,
with XlsxWriter: it streams rows to the file, a cell a few microseconds).

The frame's values become cell values through :mod:`spatial.text.sheet` (the one door for data
text into a spreadsheet), and every cell is written by type (:func:`_write_row`): numbers and
booleans stay numbers and booleans, everything else is written as a string cell
(``write_string``: never parsed as a formula, a number or a link), so a value such as
``=HYPERLINK(…)`` or ``=cmd|' /C calc'!A0`` is shown, never evaluated; text that starts like a
formula (:data:`spatial.text.sheet.FORMULA_START`) also gets Excel's quote prefix, so it stays
text when a planner edits the cell. Every sheet is set up for printing: landscape, fit to the page
width, header row repeated on each page, frozen header row and filters.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import xlsxwriter

from spatial.text.sheet import FORMULA_START, cell_columns, cell_value

#: Excel number formats: a share as a percent, a count, a one-decimal number, any other number
#: (thousands separators, one or two decimals).
PERCENT, INTEGER, DECIMAL, GROUPED = "0.0%", "#,##0", "0.0", "#,##0.0#"
#: A sheet wider than this many columns prints on A3 across pages (id columns repeated on each)
#: rather than shrunk to one A4 page wide.
WIDE_COLUMNS = 14

DATE_FORMAT = "yyyy-mm-dd hh:mm"
_HEADER = {"bold": True, "bg_color": "#DDEBF7", "valign": "vcenter", "text_wrap": True}


class _Formats:
    """The workbook's cell formats, one object per number format (XlsxWriter keeps each)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.header = book.add_format(_HEADER)
        self.quote = book.add_format({"quote_prefix": True})
        self.date = book.add_format({"num_format": DATE_FORMAT})
        self._numbers: dict[str, object] = {}

    def number(self, fmt: str | None):
        if not fmt:
            return None
        if fmt not in self._numbers:
            self._numbers[fmt] = self.book.add_format({"num_format": fmt})
        return self._numbers[fmt]


def _write_row(sheet, row: int, values: list, formats: list, fmt: _Formats) -> None:
    """One row of cells: a string never a formula (with the quote prefix when it starts like
    one), numbers and booleans as such (``formats``: a number format object per cell, or None
    for the column's own), a blank left empty."""
    for col, (value, number) in enumerate(zip(values, formats, strict=True)):
        kind = type(value)
        if kind is str:
            if value:
                quote = fmt.quote if value.startswith(FORMULA_START) else None
                sheet.write_string(row, col, value, quote)
        elif kind is int or kind is float:
            sheet.write_number(row, col, value, number)
        elif kind is bool:
            sheet.write_boolean(row, col, value)
        elif value is not None:
            sheet.write_datetime(row, col, value, fmt.date)


def write_sheet(book: xlsxwriter.Workbook, fmt: _Formats, name: str, frame, formats) -> None:
    """One sheet of ``frame`` (set up first: everything before the rows).

    Parameters
    ----------
    book : xlsxwriter.Workbook
        The workbook (in ``constant_memory`` mode: rows are written in order).
    fmt : _Formats
        Its cell formats.
    name : str
        The sheet's name.
    frame : DataFrame
        Its columns are the header row. ``attrs["row_formats"]``, when set, gives a number
        format per row (for every column but the first) instead of ``formats``.
    formats : dict of int to str
        Number format per 1-based column.
    """
    sheet = book.add_worksheet(name)
    columns = cell_columns(frame)
    _format(sheet, frame, columns, formats, fmt)
    heads = [cell_value(c) for c in frame.columns]
    for col, head in enumerate(heads):
        sheet.write_string(0, col, "" if head is None else str(head), fmt.header)
    row_formats = frame.attrs.get("row_formats")
    per_column = [None] * frame.shape[1]  # the column's format applies
    for row, values in enumerate(zip(*columns, strict=True)):
        cells = per_column
        if row_formats:
            cells = [None] + [fmt.number(row_formats[row])] * (frame.shape[1] - 1)
        _write_row(sheet, row + 1, list(values), cells, fmt)


def write_book(path: Path, sheets: list[tuple[str, pd.DataFrame, dict[int, str]]]) -> None:
    """Write ``path`` (an ``.xlsx``) with one sheet per (name, frame, number formats)."""
    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,  # each row written out as soon as the next begins
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": False,
        },
    )
    fmt = _Formats(book)
    try:
        for name, frame, formats in sheets:
            write_sheet(book, fmt, name, frame, formats)
    finally:
        book.close()


def _print_setup(sheet, width: int, keys: int) -> None:
    """Landscape, header row on every page, gridlines printed; a sheet of up to
    :data:`WIDE_COLUMNS` columns on A4 fit to one page wide, a wider one on A3 at full size
    across pages with its ``keys`` id columns repeated on each (shrunk to one page wide, a
    90-column sheet would print at about a tenth of its size)."""
    sheet.set_landscape()
    sheet.repeat_rows(0)
    sheet.hide_gridlines(0)  # shown and printed
    if width <= WIDE_COLUMNS:
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)  # one page wide, as many down as needed
        return
    sheet.set_paper(8)  # A3
    sheet.set_print_scale(100)
    sheet.print_across()  # a row band's pages side by side, then the next band
    if keys:
        sheet.repeat_columns(0, keys - 1)


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format(sheet, frame: pd.DataFrame, columns: list[list], formats, fmt: _Formats) -> None:
    """Frozen header row and key columns (``attrs["key_columns"]``: id and name), filters, column
    widths from the content (CJK counted double; the first 500 rows) with each column's number
    format, and print setup (:func:`_print_setup`)."""
    keys = min(int(frame.attrs.get("key_columns", 0)), max(len(frame.columns) - 1, 0))
    sheet.freeze_panes(1, keys)
    sheet.autofilter(0, 0, len(frame), max(len(frame.columns), 1) - 1)
    _print_setup(sheet, len(frame.columns), keys)
    for idx, name in enumerate(frame.columns):
        texts = {v for v in [name, *columns[idx][:500]] if type(v) is str}
        others = [v for v in columns[idx][:500] if type(v) is not str]
        widest = max([*map(_width, texts), *map(_width, others), 0])
        number = None if frame.attrs.get("row_formats") else fmt.number(formats.get(idx + 1))
        sheet.set_column(idx, idx, min(max(widest + 2, 8), 60), number)
