"""The one parallel mechanism (:mod:`spatial.core.parallel`): threads inside a process are bounded
by its cores, so a forked worker runs its threads within its share of the CPUs."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from spatial.core import parallel
from spatial.core.errors import Cancelled


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


def _forever() -> None:
    while True:
        time.sleep(0.02)


def _alive(pids: set[int]) -> set[int]:
    """The ``pids`` still running (a zombie is not)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _worker_pid() -> int:
    return os.getpid()


def _mark_then_forever(marker) -> None:
    marker.write_text("began")
    _forever()


@pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")
def test_leaving_by_an_error_stops_the_running_calls(tmp_path):
    from functools import partial

    markers = [tmp_path / "a", tmp_path / "b"]
    calls = [partial(_mark_then_forever, m) for m in markers]
    with (
        pytest.raises(ValueError, match="stage failed"),
        parallel.started(calls, 2) as futures,
    ):
        while not all(m.exists() for m in markers):  # both calls running
            time.sleep(0.02)
        began = time.monotonic()
        raise ValueError("stage failed")  # e.g. the sites stage, beside the workers
    assert time.monotonic() - began < 20  # the calls never end by themselves
    assert all(isinstance(f.exception(), Cancelled) for f in futures)


@pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")
def test_a_pulled_switch_stops_only_its_own_runs_workers():
    switch, other = parallel.Cancel(), parallel.Cancel()
    found: dict[str, object] = {}

    def run(name: str, cancel: parallel.Cancel) -> None:
        with parallel.cancellable(cancel):
            try:
                with parallel.started([_worker_pid, _forever], workers=2) as futures:
                    found[f"{name}_pid"] = futures[0].result()
                    found[name] = futures[1].result(timeout=3 if name == "other" else None)
            except BaseException as exc:  # noqa: BLE001 - what ended the run
                found[name] = exc
            try:
                cancel.check()  # the stage after
            except Cancelled as exc:
                found[f"{name}_after"] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in
               (("one", switch), ("other", other))]  # fmt: skip
    for thread in threads:
        thread.start()
    while not {"one_pid", "other_pid"} <= set(found):
        time.sleep(0.02)
    switch.pull()
    threads[0].join(20)
    assert not threads[0].is_alive() and isinstance(found["one"], Cancelled)
    threads[1].join(20)  # its call went on until its own 3 s timeout
    assert not other.pulled and type(found["other"]).__name__ == "TimeoutError"
    assert "one_after" in found and "other_after" not in found  # the next stage: not begun


@pytest.mark.skipif(not parallel.can_fork(), reason="no fork here")
def test_the_workers_end_with_the_block():
    with parallel.started([_worker_pid, _worker_pid], workers=2) as futures:
        pids = {f.result() for f in futures}
    assert pids and not _alive(pids)  # ended and reaped with the block
