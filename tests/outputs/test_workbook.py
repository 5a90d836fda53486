"""The ledger's cell writer (XlsxWriter) on edge values, read back with openpyxl: text is never
a formula, formula-like text keeps Excel's quote prefix, numbers stay numbers with their column's
format, what XML cannot hold is dropped, and what Excel cannot hold is cut or written as text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from spatial.outputs.ledger.workbook import PERCENT, write_book
from spatial.text.sheet import MAX_TEXT


def test_edge_values_read_back_as_text_numbers_and_blanks(tmp_path):
    frame = pd.DataFrame(
        {
            "text": ['=HYPERLINK("x")', "+1", "@a", "plain", "a\x07b", "", "#N/A", "长" * 40000],
            "number": [0.5, np.float64(0.25), np.inf, np.nan, -0.0, 1e300, 3, np.int64(7)],
            "mixed": [True, np.bool_(False), None, dt.datetime(2024, 1, 2), [1, 2], 5, "x", 1.5],
        }
    )
    path = tmp_path / "b.xlsx"
    write_book(path, [("s", frame, {2: PERCENT})])
    sheet = load_workbook(path)["s"]
    rows = list(sheet.iter_rows(min_row=2))
    text = [r[0] for r in rows]
    assert [c.data_type for c in text if c.value is not None] == ["s"] * 7
    assert [c.value for c in text[:5]] == ['=HYPERLINK("x")', "+1", "@a", "plain", "ab"]
    assert [c.quotePrefix for c in text[:4]] == [True, True, True, False]
    assert text[5].value is None and text[6].value == "#N/A"
    assert text[7].value == "长" * MAX_TEXT
    number = [r[1] for r in rows]
    assert [c.value for c in number] == [0.5, 0.25, "inf", None, 0, 1e300, 3, 7]
    assert number[0].number_format == PERCENT and number[0].data_type == "n"
    mixed = [r[2].value for r in rows]
    assert mixed[:2] == [True, False] and mixed[2] is None
    assert mixed[3] == dt.datetime(2024, 1, 2) and mixed[4:] == ["[1, 2]", 5, "x", 1.5]
    assert [c.data_type for r in rows for c in r if c.data_type == "f"] == []


def test_row_formats_give_each_row_its_number_format(tmp_path):
    frame = pd.DataFrame({"name": ["share", "count"], "value": [0.069, 1234]})
    frame.attrs["row_formats"] = [PERCENT, "#,##0"]
    path = tmp_path / "r.xlsx"
    write_book(path, [("s", frame, {})])
    sheet = load_workbook(path)["s"]
    assert sheet["B2"].number_format == PERCENT and sheet["B3"].number_format == "#,##0"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:B3"


def test_ledger_keeps_every_digit_and_takes_missing_integers(tmp_path):
    import numpy as np
    import openpyxl
    import pandas as pd

    from spatial.outputs.ledger.workbook import write_book

    frame = pd.DataFrame(
        {
            "id": np.array([370102198001011234, 7, -(2**63)], dtype="int64"),
            "count": pd.array([1, None, 3], dtype="Int64"),  # crashed: pd.NA as a date
            "plain": [2**53, -(2**53), 0],
            "big": pd.Series([10**400, 5, 2**60], dtype=object),  # OverflowError before
        }
    )
    path = tmp_path / "x.xlsx"
    write_book(path, [("S", frame, {})])
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(path)["S"].iter_rows()][1:]
    assert [r[0] for r in rows] == ["370102198001011234", 7, str(-(2**63))]
    assert [r[1] for r in rows] == [1, None, 3]
    assert [r[2] for r in rows] == [2**53, -(2**53), 0]
    assert [r[3] for r in rows] == [str(10**400)[:32767], 5, str(2**60)]
