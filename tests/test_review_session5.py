"""Review session 5: defects found by running the tool as a new planner and as an attacker
(hostile names, bad numbers), each pinned by a test that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spatial.errors import InputError
from spatial.parse import parse_number

from .conftest import JINAN, file_digest, small_facilities_csv


def test_negative_value_in_a_column_with_blanks_is_a_clean_error():
    """A capacity column is mostly blank (only some facilities have beds): a negative value in it
    was an internal error (``boolean value of NA is ambiguous``, exit 3), not the row's error."""
    with pytest.raises(InputError) as info:
        parse_number(pd.Series(["", "12", None, "-5", ""]), "床位", Path("facilities.csv"))
    assert info.value.key == "err_negative"
    assert info.value.fields["row"] == 5  # header is row 1: the 4th value is row 5
    assert "'床位'" in str(info.value) and "-5" in str(info.value)
    # blanks alone stay blanks, numbers stay numbers
    values = parse_number(pd.Series(["", "12", None]), "床位", Path("f.csv"))
    assert values.isna().tolist() == [True, False, True] and values.iloc[1] == 12.0


def test_negative_beds_exit_2_through_the_cli(small_project, run_cli):
    folder = small_project.parent
    rows = [("幸福养老院", "养老院", *JINAN), ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1])]
    small_facilities_csv(folder / "facilities.csv", rows)
    frame = pd.read_csv(folder / "facilities.csv")
    frame["床位"] = [-20, None]
    frame.to_csv(folder / "facilities.csv", index=False)
    before = {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()}
    code, stdout, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr + stdout
    assert "facilities.csv" in lines[0] and "row 2" in lines[0] and "'床位'" in lines[0]
    assert {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()} == before
