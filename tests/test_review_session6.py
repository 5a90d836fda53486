"""Review session 6: forked workers and Ctrl-C, the ledger's cell values."""

from __future__ import annotations

import signal

import pytest

from spatial.core import parallel as forks


def _worker_sigint():
    return signal.getsignal(signal.SIGINT)


@pytest.mark.skipif(not forks.can_fork(), reason="no fork here")
def test_forked_workers_leave_ctrl_c_to_the_parent():
    # A worker stopped by Ctrl-C while sending back a large result (a service-area table)
    # left the pool's reader waiting for the rest of the message: the run hung for ever.
    before = signal.getsignal(signal.SIGINT)
    with forks.started([_worker_sigint, _worker_sigint], workers=2) as futures:
        got = [future.result() for future in futures]
    assert got == [signal.SIG_IGN, signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is before


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
