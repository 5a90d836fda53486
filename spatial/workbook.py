"""Frames as formatted Excel sheets that hold text, never formulas (the ledger's cell writer).

Every cell is written by :func:`_put`: numbers and booleans stay numbers and booleans, everything
else is a text cell (``data_type = "s"``), so a value such as ``=HYPERLINK(…)`` or
``=cmd|' /C calc'!A0`` is shown, never evaluated; text that starts like a formula (``= + - @``,
tab, CR — OWASP's list) also gets Excel's quote prefix, so it stays text when a planner edits the
cell. Every sheet is set up for printing: landscape, fit to the page width, header row repeated
on each page, frozen header row and filters.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import unicodedata

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

#: Excel number formats: a share as a percent, a count, a one-decimal number.
PERCENT, INTEGER, DECIMAL = "0.0%", "#,##0", "0.0"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def _cell_value(value: object) -> object:
    """A value openpyxl stores as is: None, bool, int, float, datetime or str."""
    kind = type(value)  # the common plain types first (most cells), same results as below
    if kind is str:
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else (None if value != value else str(value))
    if isinstance(value, list | tuple | set | dict | np.ndarray):
        return str(value)
    if value is None or pd.isna(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date) and getattr(value, "tzinfo", None) is None:
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _put(sheet, value: object, number_format: str | None = None, header: bool = False):
    """One cell for ``sheet.append``: numbers as numbers (with ``number_format``), any text as a
    text cell (never a formula). Plain numbers and blanks go as bare values (cheapest)."""
    value = _cell_value(value)
    if isinstance(value, str):
        if not header and not value.startswith(FORMULA_START) and value not in ERROR_CODES:
            return value  # openpyxl makes it a text cell ("s") as it is: no cell object needed
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"  # openpyxl makes "=…" a formula; the ledger has none
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    elif number_format and isinstance(value, int | float) and not isinstance(value, bool):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
    elif header:
        cell = WriteOnlyCell(sheet, value)
    else:
        return value
    if header:
        cell.font, cell.fill, cell.alignment = _HEADER_STYLE
    return cell


_HEADER_STYLE = (
    Font(bold=True),
    PatternFill("solid", fgColor="DDEBF7"),
    Alignment(vertical="center", wrap_text=True),
)


def write_sheet(sheet: Worksheet, frame: pd.DataFrame, formats: dict[int, str]) -> None:
    """Set up ``sheet`` (a write-only sheet: everything before the rows) and append the rows.

    Parameters
    ----------
    sheet : Worksheet
        A sheet of a ``Workbook(write_only=True)``.
    frame : DataFrame
        Its columns are the header row. ``attrs["row_formats"]``, when set, gives a number
        format per row (for every column but the first) instead of ``formats``.
    formats : dict of int to str
        Number format per 1-based column.
    """
    _format(sheet, frame)
    sheet.append([_put(sheet, name, header=True) for name in frame.columns])
    row_formats = frame.attrs.get("row_formats")
    columns = [_plain(frame.iloc[:, k]) for k in range(frame.shape[1])]
    for row, values in enumerate(zip(*columns, strict=True)):
        if row_formats:
            fmts = [None] + [row_formats[row]] * (len(values) - 1)
        else:
            fmts = [formats.get(col) for col in range(1, len(values) + 1)]
        sheet.append([_put(sheet, v, f) for v, f in zip(values, fmts, strict=True)])


def _plain(column: pd.Series) -> list:
    """A column as plain Python values (numeric columns converted at once, not cell by cell)."""
    if column.dtype.kind in "iu":
        return column.tolist()
    if column.dtype.kind == "f":
        return column.astype(object).where(column.notna(), None).tolist()
    return column.tolist()


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _format(sheet, frame: pd.DataFrame) -> None:
    """Frozen header row, filters, column widths from the content (CJK counted double; the first
    500 rows), and print setup: landscape A4, fit to one page wide, header row on every page."""
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(len(frame.columns), 1))
    sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    head = frame.head(500)
    for idx, col in enumerate(frame.columns, start=1):
        values = [col, *(_cell_value(v) for v in head[col].tolist())] if len(head) else [col]
        widest = max(_width(v) for v in values)
        sheet.column_dimensions[get_column_letter(idx)].width = min(max(widest + 2, 8), 60)
