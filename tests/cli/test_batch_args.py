"""``lifecircle batch --workers`` refuses what is not a worker count (it silently became 1)."""

from __future__ import annotations

import pytest

from spatial.cli.main import main


@pytest.mark.parametrize("value", ["-1", "0", "two"])
def test_workers_below_one_is_refused_naming_the_value(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["batch", str(tmp_path), "--workers", value, "--lang", "en"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --workers: must be a whole number of at least 1 (given: '{value}')" in err
    assert "Traceback" not in err


def test_a_worker_count_is_taken(tmp_path):
    from spatial.cli.parser import parser

    args = parser("en").parse_args(["batch", str(tmp_path), "--workers", "3"])
    assert args.workers == 3
