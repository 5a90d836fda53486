"""Calls run side by side in forked worker processes: the one mechanism by which a large run uses
more than one core for whole stages (its analysis and its output files).

A forked worker sees this process's memory as it was when the workers started (the loaded and
analysed run, without copying or pickling it); only a call's return value (or its exception) is
pickled back. Where the platform cannot fork, :func:`can_fork` is False and the caller runs the
calls in this process instead.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from spatial.core import settings

_CALLS: list[Callable[[], Any]] = []  # the calls of the workers being started

MAX_WORKERS = 4


def can_fork() -> bool:
    """Whether calls can run side by side here: ``fork`` exists, there are two CPUs or more, and
    this process may have children: a daemonic process (a Dask worker of ``lifecircle batch``,
    which already gives each project its own core) may not, so its run works in-process."""
    return (
        "fork" in mp.get_all_start_methods()
        and (os.cpu_count() or 1) >= 2
        and not mp.current_process().daemon
    )


def worth_it(communities: int) -> bool:
    """Whether a run of ``communities`` uses forked workers: a large run
    (:data:`spatial.core.settings.PARALLEL_FROM`) where the platform can fork."""
    return communities >= settings.PARALLEL_FROM and can_fork()


def workers_for(calls: int) -> int:
    """How many workers for ``calls`` calls: one a CPU, at most :data:`MAX_WORKERS`."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, calls))


def _ignore_interrupt() -> None:
    """A worker ignores Ctrl-C: the parent process handles it (cancels the calls not started
    and waits for the running ones). A worker stopped by it while sending back its result
    would leave the pool's reader waiting for the rest of the message for ever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call(index: int) -> Any:
    return _CALLS[index]()


@contextmanager
def started(calls: list[Callable[[], Any]], workers: int | None = None) -> Iterator[list[Future]]:
    """Start ``calls`` in ``workers`` forked processes (default :func:`workers_for`), in order;
    yields their futures (``.result()`` returns a call's value or raises its exception). On
    leaving, calls not yet started are cancelled and the workers are waited for, so nothing a
    call writes appears after this block."""
    global _CALLS
    pool = ProcessPoolExecutor(
        workers or workers_for(len(calls)),
        mp_context=mp.get_context("fork"),
        initializer=_ignore_interrupt,
    )
    _CALLS = list(calls)
    try:
        futures = [pool.submit(_call, k) for k in range(len(calls))]  # the workers fork here
        _CALLS = []
        yield futures
    finally:
        _CALLS = []
        pool.shutdown(wait=True, cancel_futures=True)
