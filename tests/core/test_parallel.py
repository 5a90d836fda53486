"""The one parallel mechanism (:mod:`spatial.core.parallel`): threads inside a process are bounded
by its cores, so a forked worker runs its threads within its share of the CPUs."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from spatial.core import parallel


def _where(_: object) -> int:
    return threading.get_ident()


def _in_worker() -> tuple[int, list[int], int]:
    """A forked worker's share, and the threads its thread_map ran on (and its own)."""
    return parallel.cores_here(), parallel.thread_map(_where, range(4)), threading.get_ident()


def test_a_process_of_its_own_uses_every_cpu():
    assert parallel.cores_here() == (os.cpu_count() or 1)
    assert parallel.thread_map(lambda x: x * x, range(5)) == [0, 1, 4, 9, 16]  # in order


@pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")
def test_threads_in_a_forked_worker_stay_within_its_share():
    cpus = os.cpu_count() or 1
    with parallel.started([_in_worker] * cpus, workers=cpus) as futures:
        found = [f.result() for f in futures]
    for share, idents, own in found:
        assert share == 1  # as many workers as CPUs: one core each
        assert set(idents) == {own}  # no thread pool: every call in the worker's own thread
    with parallel.started([_in_worker], workers=1) as futures:
        share, idents, own = futures[0].result()
    assert share == cpus  # one worker: all of them
    if cpus >= 2:
        assert own not in idents  # a thread pool


def test_a_call_that_fails_raises_where_its_result_is_read(monkeypatch):
    monkeypatch.setattr(parallel, "_SHARE", 1)
    with parallel.threads(4) as pool:
        future = pool.submit(int, "x")
        assert future.done() and isinstance(future.exception(), ValueError)
        assert pool.submit(_where, None).result() == threading.get_ident()


def _worker_sigint():
    return signal.getsignal(signal.SIGINT)


@pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")
def test_forked_workers_leave_ctrl_c_to_the_parent():
    # A worker stopped by Ctrl-C while sending back a large result (a service-area table)
    # left the pool's reader waiting for the rest of the message: the run hung for ever.
    before = signal.getsignal(signal.SIGINT)
    with parallel.started([_worker_sigint, _worker_sigint], workers=2) as futures:
        got = [future.result() for future in futures]
    assert got == [signal.SIG_IGN, signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is before
