"""How the run uses more than one core — the one module that decides it, in two ways:

- **forked worker processes** (:func:`started`) run whole stages side by side in a large run (its
  analysis and its output files). A forked worker sees this process's memory as it was when the
  workers started (the loaded and analysed run, without copying or pickling it); only a call's
  return value (or its exception) is pickled back. Where the platform cannot fork,
  :func:`can_fork` is False and the caller runs the calls in this process instead.
- **threads** (:func:`threads`, :func:`thread_map`) inside one process, only for calls that
  release the GIL: GEOS (the service areas' categories, one a thread) and Pillow's PNG encoder
  (a print page encoded while the next is drawn).

The rule for nesting: a process keeps at most :func:`cores_here` cores busy — every CPU in a
process of its own, its share (CPUs ÷ workers, at least one) in a forked worker. A thread pool is
bounded by it, so threads inside a forked worker never outnumber its share: with 2 CPUs and 2
workers each worker runs its calls in its own thread, and a small run (no workers) uses both.
Measured on the 2-core machine (README, "Benchmarks"): the PNG encoder thread cuts the print maps'
wall time by a fifth to a quarter at the same CPU time; the service areas' threads bought no wall
time where no core was free and cost ~8 % more CPU time.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from spatial.core import settings

_CALLS: list[Callable[[], Any]] = []  # the calls of the workers being started
_SHARE: int | None = None  # in a forked worker: the cores it may keep busy

MAX_WORKERS = 4
T = TypeVar("T")
R = TypeVar("R")


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


def cores_here() -> int:
    """The cores this process may keep busy: every CPU in a process of its own, its share of them
    in a forked worker of :func:`started` (CPUs ÷ workers, at least one)."""
    return _SHARE or os.cpu_count() or 1


def _start_worker(share: int) -> None:
    """A worker's set-up: its share of the cores (:func:`cores_here`), and it ignores Ctrl-C:
    the parent process handles it (cancels the calls not started and waits for the running
    ones). A worker stopped by it while sending back its result would leave the pool's reader
    waiting for the rest of the message for ever."""
    global _SHARE
    _SHARE = share
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
    workers = workers or workers_for(len(calls))
    pool = ProcessPoolExecutor(
        workers,
        mp_context=mp.get_context("fork"),
        initializer=_start_worker,
        initargs=(max(1, cores_here() // workers),),
    )
    _CALLS = list(calls)
    try:
        futures = [pool.submit(_call, k) for k in range(len(calls))]  # the workers fork here
        _CALLS = []
        yield futures
    finally:
        _CALLS = []
        pool.shutdown(wait=True, cancel_futures=True)


class _InThisThread(Executor):
    """An executor that runs each call at once, in the caller's thread."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # as a pool would: raised by .result()
            future.set_exception(exc)
        return future


@contextmanager
def threads(most: int) -> Iterator[Executor]:
    """An executor of up to ``most`` threads, never more than :func:`cores_here`; with one core
    (a forked worker's share on a small machine), an executor that runs each call at once in
    the caller's thread. Only for calls that release the GIL."""
    if cores_here() <= 1:
        yield _InThisThread()
        return
    with ThreadPoolExecutor(max_workers=max(1, min(most, cores_here()))) as pool:
        yield pool


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(x) for x in items]`` in up to :func:`cores_here` threads (for calls that release
    the GIL), in order; in the caller's thread when this process has one core or one item."""
    items = list(items)
    if len(items) <= 1 or cores_here() <= 1:
        return [fn(x) for x in items]
    with threads(len(items)) as pool:
        return list(pool.map(fn, items))
