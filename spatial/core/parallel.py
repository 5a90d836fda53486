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

Stopping a run: a run ends early by a ``KeyboardInterrupt`` in the thread that runs it — Ctrl-C
in the command line's main thread, or :class:`~spatial.core.errors.Cancelled` from
:meth:`Cancel.check` between stages (the app's Cancel button, a thread of its own per run:
:func:`cancellable`). Whatever leaves a :func:`started` block early also stops its workers'
running calls (the pool's stop; a worker ends only a call, never the pool's own messages), so
the run ends within moments and leaves no worker behind.
"""

from __future__ import annotations

import _thread
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from spatial.core import settings
from spatial.core.errors import Cancelled

_CALLS: list[Callable[[], Any]] = []  # the calls of the workers being started
_FORKING = threading.Lock()  # one start at a time: its workers fork holding its own _CALLS
_SHARE: int | None = None  # in a forked worker: the cores it may keep busy
_STOPPED = False  # in a forked worker: its pool was told to stop (no call begins any more)
_IN_CALL = False  # in a forked worker: a call is running (only a call is ever stopped)
_LOCAL = threading.local()  # ``switch``: the Cancel of the run in this thread (cancellable)
_STOP_SIGNAL = getattr(signal, "SIGUSR1", None)  # a forked worker's stop (POSIX, as fork is)

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


class Cancel:
    """A run's stop switch, pulled from another thread (the app's Cancel button).

    The run's thread, inside :func:`cancellable`, calls :meth:`check` between stages; pulling
    the switch also sets the stop of the workers that thread's :func:`started` block runs,
    so their running calls end at once instead of at the next stage. Each run has its own
    switch: pulling it stops no other run.
    """

    def __init__(self) -> None:
        self._pulled = threading.Event()
        self._lock = threading.Lock()
        self._stops: list[_Stop] = []  # the stops of the running worker pools

    @property
    def pulled(self) -> bool:
        """Whether :meth:`pull` was called."""
        return self._pulled.is_set()

    def pull(self) -> None:
        """Stop the run: its next :meth:`check` raises, its workers' calls end now."""
        with self._lock:
            self._pulled.set()
            for stop in self._stops:
                stop.set()

    def check(self) -> None:
        """Raise :class:`~spatial.core.errors.Cancelled` once the switch is pulled."""
        if self.pulled:
            raise Cancelled()

    def _attach(self, stop: _Stop) -> None:
        with self._lock:
            self._stops.append(stop)
            if self.pulled:
                stop.set()

    def _detach(self, stop: _Stop) -> None:
        with self._lock:
            self._stops.remove(stop)


@contextmanager
def cancellable(switch: Cancel) -> Iterator[Cancel]:
    """Make ``switch`` the stop switch of the run in this thread: every :func:`started` block
    of the thread gives it its workers to stop.

    Parameters
    ----------
    switch : Cancel
    """
    before = getattr(_LOCAL, "switch", None)
    _LOCAL.switch = switch
    try:
        yield switch
    finally:
        _LOCAL.switch = before


class _Stop:
    """A pool's stop: a pipe whose read end each worker's watcher thread waits on. Setting it
    writes one byte a worker, and never waits for a worker (one that died reads nothing)."""

    def __init__(self, workers: int) -> None:
        self.read, self.write = os.pipe()
        self.workers = workers
        self._done = False
        self._lock = threading.Lock()

    def set(self) -> None:
        with self._lock:
            if not self._done:
                self._done = True
                os.write(self.write, b"x" * self.workers)

    def close(self) -> None:
        os.close(self.read)
        os.close(self.write)


def _start_worker(share: int, stop_fd: int) -> None:
    """A worker's set-up: its share of the cores (:func:`cores_here`), its watcher of the pool's
    stop (:class:`_Stop`), and it ignores Ctrl-C: the parent process handles it (cancels the calls
    not started and sets the stop). A worker stopped by a signal while sending back its result
    would leave the pool's reader waiting for the rest of the message for ever: so Ctrl-C is
    ignored, and the stop ends only a running call (:func:`_stop_call`), whose exception is
    then sent back as a whole message."""
    global _SHARE
    _SHARE = share
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(_STOP_SIGNAL, _stop_call)
    threading.Thread(target=_watch, args=(stop_fd,), daemon=True).start()


def _watch(stop_fd: int) -> None:
    """In a worker: once the pool's stop is set, no call begins and :func:`_stop_call` runs in
    the main thread (a simulated signal: nothing is sent from process to process)."""
    global _STOPPED
    try:
        os.read(stop_fd, 1)
    except OSError:
        return
    _STOPPED = True
    _thread.interrupt_main(_STOP_SIGNAL)


def _stop_call(signum: int, frame: Any) -> None:
    if _IN_CALL:
        raise Cancelled()


def _call(index: int) -> Any:
    global _IN_CALL
    _IN_CALL = True
    try:
        if _STOPPED:  # stopped before this call began
            raise Cancelled()
        return _CALLS[index]()
    finally:
        _IN_CALL = False


@contextmanager
def started(calls: list[Callable[[], Any]], workers: int | None = None) -> Iterator[list[Future]]:
    """Start ``calls`` in ``workers`` forked processes (default :func:`workers_for`), in order;
    yields their futures (``.result()`` returns a call's value or raises its exception). On
    leaving, calls not yet started are cancelled and the workers are waited for, so nothing a
    call writes appears after this block; leaving by an exception (an error, Ctrl-C, a cancel)
    first stops the running calls (they raise :class:`~spatial.core.errors.Cancelled`), as does
    pulling the thread's :class:`Cancel` (:func:`cancellable`) meanwhile."""
    global _CALLS
    workers = workers or workers_for(len(calls))
    stop = _Stop(workers)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=mp.get_context("fork"),
        initializer=_start_worker,
        initargs=(max(1, cores_here() // workers), stop.read),
    )
    switch: Cancel | None = getattr(_LOCAL, "switch", None)
    if switch is not None:
        switch._attach(stop)
    try:
        with _FORKING:  # the workers fork at the first submit: with these calls, no other run's
            _CALLS = list(calls)
            try:
                futures = [pool.submit(_call, k) for k in range(len(calls))]
            finally:
                _CALLS = []
        yield futures
    except BaseException:
        stop.set()  # the run is failing or stopped: its running calls end now
        raise
    finally:
        if switch is not None:
            switch._detach(stop)
        pool.shutdown(wait=True, cancel_futures=True)
        stop.close()


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
