"""Text into a spreadsheet: the one door through which values from the data become the ledger's
cells (:mod:`spatial.outputs.ledger.workbook` writes them).

:func:`cell_value` turns a value into what a cell holds — text without the characters XML 1.0
cannot hold and within Excel's length, numbers Excel keeps exactly, everything else as its text —
and :func:`cell_columns` does it for a whole frame. Text is written as a string cell, never a
formula; :data:`FORMULA_START` lists how a text may start that Excel would take as a formula when
a planner edits the cell (OWASP's list and the full-width forms): the writer quote-prefixes it.
Controls and bidi marks are not escaped here (a cell is not one line of a terminal): tab, newline
and carriage return stay, the rest XML cannot hold is dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re

import numpy as np
import pandas as pd

#: how a text may start that a spreadsheet takes as a formula (OWASP's list, full-width forms too)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
#: characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage return)
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010\013\014\016-\037]")
MAX_TEXT = 32767  # Excel's limit of a cell's text
MAX_EXACT = 2**53  # larger whole numbers lose digits as Excel numbers: written as text


def cell_value(value: object) -> object:
    """``value`` as a spreadsheet cell takes it: None, bool, int, float, datetime or str.

    Text loses the characters XML cannot hold and is cut to Excel's :data:`MAX_TEXT`; a whole
    number beyond :data:`MAX_EXACT`, an infinity, a time with a time zone, a list or any other
    object becomes its text; NaN and NA become an empty cell.
    """
    kind = type(value)  # the common plain types first (most cells), same results as below
    if kind is str:
        return ILLEGAL_CHARACTERS.sub("", value)[:MAX_TEXT]
    if kind is int:
        return value if -MAX_EXACT <= value <= MAX_EXACT else str(value)
    if kind is float:
        return value if math.isfinite(value) else (None if value != value else str(value))
    if isinstance(value, list | tuple | set | dict | np.ndarray):
        return cell_value(str(value))
    if value is None or pd.isna(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return cell_value(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date) and getattr(value, "tzinfo", None) is None:
        return value
    return cell_value(str(value))


def cell_columns(frame: pd.DataFrame) -> list[list]:
    """The frame's columns as cell values (:func:`cell_value`; plain numeric and text columns
    converted at once)."""
    out = []
    for k in range(frame.shape[1]):
        column = frame.iloc[:, k]
        if column.dtype.kind in "iu":
            values = column.tolist()
            exact = not column.hasnans and (
                not len(column) or column.min() >= -MAX_EXACT and column.max() <= MAX_EXACT
            )
            out.append(values if exact else [cell_value(v) for v in values])
        elif column.dtype.kind == "f":
            finite = np.isfinite(column.to_numpy())
            if finite.all():
                out.append(column.tolist())
            else:
                out.append([cell_value(v) for v in column.tolist()])
        else:
            out.append(_text_column(column.tolist()))
    return out


def _text_column(values: list) -> list:
    """An object column as cell values; plain text without an illegal character or an
    over-long value as it is (one scan of the column, not a call per value)."""
    kinds = set(map(type, values))
    if kinds <= {str, type(None)}:
        texts = [v for v in values if v is not None]
        joined = "\n".join(texts)
        if not ILLEGAL_CHARACTERS.search(joined) and max(map(len, texts), default=0) <= MAX_TEXT:
            return values
    return [cell_value(v) for v in values]
