"""Review session 6: forked workers and Ctrl-C, the ledger's cell values."""

from __future__ import annotations

import signal

import pytest

from spatial import forks


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
