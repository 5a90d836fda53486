"""Issue 23 through the command line: the clean-up removes only what the tool provably made (a
live run's staging folder survives a second run in another PID namespace), inputs that never
end (FIFOs, devices, compressed bombs, a gigantic cell) and every OS error of an input or
``--out`` path are one line with exit 2, and a full disk is "no space left".

Each case checks the exit code, one line on stderr, no traceback, every input byte-identical and
``--out`` complete or exactly as before.
"""

from __future__ import annotations

import bz2
import errno
import fcntl
import gzip
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from spatial.core import input_guard
from spatial.outputs import staging
from spatial.outputs.run_marker import MARKER, claim
from tests.cli.test_guarantees import _edit, _first_run, assert_clean, snapshot
from tests.conftest import small_communities

UNSHARE = shutil.which("unshare")


def _namespaces_work() -> bool:
    if not UNSHARE or os.geteuid() != 0:
        return False
    done = subprocess.run([UNSHARE, "--pid", "--fork", "--mount-proc", "true"], check=False)
    return done.returncode == 0


needs_unshare = pytest.mark.skipif(not _namespaces_work(), reason="unshare --pid unavailable")


def _cli(*args: object, namespace: bool = False) -> list[str]:
    command = [sys.executable, "-m", "spatial", *map(str, args)]
    return [UNSHARE, "--pid", "--fork", "--mount-proc", *command] if namespace else command


def live_staging(parent: Path, pid: int = 999_999, host: str = "another-machine") -> tuple:
    """A staging folder of a live run elsewhere (another machine or PID namespace: its process
    id means nothing here): a valid marker whose lock this test process holds."""
    token = secrets.token_hex(8)
    root = parent / f"{staging.STAGING_PREFIX}{pid}-{token}"
    (root / "new").mkdir(parents=True)
    (root / "new" / "lifecircle.gpkg").write_bytes(b"being written")
    run = {"tool": "lifecircle", "host": host, "pid": pid, "started": "2026-01-01T00:00:00+00:00",
           "id": token}  # fmt: skip
    (root / MARKER).write_text(json.dumps(run), "utf-8")
    fd = os.open(root / MARKER, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return root, fd


# -- the clean-up removes only what is provably the tool's ------------------------------------


@pytest.mark.slow
def test_a_live_runs_staging_survives_whatever_its_pid(project, run_cli):
    out, _ = _first_run(project, run_cli)
    beside, fd1 = live_staging(project.parent)  # where a run stages when --out is new
    inside, fd2 = live_staging(out, pid=1, host="this")  # where it stages when --out exists
    try:
        code, _, err = run_cli("coverage", "--config", project, "--out", out)
        assert code == 0, err
        assert (beside / "new" / "lifecircle.gpkg").read_bytes() == b"being written"
        assert (inside / "new" / "lifecircle.gpkg").read_bytes() == b"being written"
    finally:
        os.close(fd1)
        os.close(fd2)
    # the runs are over (locks free): the next run removes both, and only them
    code, _, err = run_cli("coverage", "--config", project, "--out", out)
    assert code == 0, err
    assert not beside.exists() and not inside.exists()
    assert (out / "notes.txt").read_text("utf-8") == "the planner's own file"


@pytest.mark.slow
@pytest.mark.parametrize(
    "marker",
    [None, "{}", "not json", '{"tool": "lifecircle", "host": "h", "pid": 999999, '
     '"started": "s", "id": "0000000000000000"}'],
    ids=["no_marker", "empty", "garbage", "id_of_another_folder"],
)  # fmt: skip
def test_a_data_folder_named_like_staging_is_never_touched(small_project, run_cli, marker):
    """The project file inside `.lifecircle-staging-999999-mydata/` (no valid marker) is read,
    not deleted; the run writes beside it."""
    data = small_project.parent / f"{staging.STAGING_PREFIX}999999-mydata"
    data.mkdir()
    for name in ("project.toml", "communities.gpkg", "facilities.csv"):
        shutil.move(small_project.parent / name, data / name)
    if marker is not None:
        (data / MARKER).write_text(marker, "utf-8")
    before = snapshot(data)
    code, _, err = run_cli("coverage", "--config", data, "--out", small_project.parent / "out")
    assert code == 0, err
    assert snapshot(data) == before


def test_a_stale_staging_holding_an_input_is_kept(small_project, run_cli):
    root, fd = claim(small_project.parent, staging.STAGING_PREFIX)
    os.close(fd)  # its run is over: provably stale
    for name in ("project.toml", "communities.gpkg", "facilities.csv"):
        shutil.move(small_project.parent / name, root / name)
    before = snapshot(root)
    code, _, err = run_cli("coverage", "--config", root, "--out", small_project.parent / "out")
    assert code == 0, err
    assert snapshot(root) == before


def test_an_input_named_like_a_temporary_file_in_out_dot(small_project, run_cli, monkeypatch):
    folder = small_project.parent
    small_communities().to_file(folder / ".summary.parcels1.json", driver="GeoJSON")
    _edit(small_project, 'path = "communities.gpkg"', 'path = ".summary.parcels1.json"')
    before = snapshot(folder)
    monkeypatch.chdir(folder)
    code, _, err = run_cli("coverage", "--config", "project.toml", "--out", ".")
    assert code == 0, err
    after = snapshot(folder)
    assert {k: after[k] for k in before} == before  # every input byte-identical
    assert set(after) - set(before) == {"lifecircle.gpkg", "summary.json"}


def test_the_written_list_is_what_is_in_out(small_project, run_cli):
    out = small_project.parent / "out"
    code, _, err = run_cli("coverage", "--config", small_project, "--out", out)
    assert code == 0, err
    listed = json.loads((out / "summary.json").read_text("utf-8"))["outputs"]
    assert sorted(listed) == sorted(p.name for p in out.iterdir())


def test_a_file_removed_during_the_swap_is_not_claimed(small_project, run_cli, monkeypatch):
    out = small_project.parent / "out"
    real = os.replace

    def replace_then_lose(src, dst):
        real(src, dst)
        if Path(dst).name == "lifecircle.gpkg" and Path(dst).parent == out:
            os.unlink(dst)  # something else removes it after the move

    monkeypatch.setattr(staging.os, "replace", replace_then_lose)
    code, _, err = run_cli("coverage", "--config", small_project, "--out", out, "--lang", "en")
    assert_clean(code, err, "lifecircle.gpkg is missing from the output folder")


@pytest.mark.slow
@needs_unshare
def test_a_run_in_another_pid_namespace_keeps_a_live_staging(small_project, run_cli):
    """The live run's process id is not alive in the second run's PID namespace: the lock, not
    the process id, decides."""
    out = small_project.parent / "out"
    code, _, err = run_cli("coverage", "--config", small_project, "--out", out)
    assert code == 0, err
    live, fd = live_staging(out, pid=os.getpid(), host=os.uname().nodename)
    over, lock = claim(out, staging.STAGING_PREFIX)
    os.close(lock)
    try:
        done = subprocess.run(_cli("coverage", "--config", small_project, "--out", out,
                                   namespace=True),
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (live / "new" / "lifecircle.gpkg").read_bytes() == b"being written"
        assert not over.exists()  # a run that is over is still cleaned across namespaces
    finally:
        os.close(fd)


def _staging_of(folder: Path) -> Path | None:
    return next(
        (p for p in folder.glob(f"{staging.STAGING_PREFIX}*") if (p / MARKER).exists()), None
    )


@pytest.mark.slow
@needs_unshare
def test_two_runs_in_separate_pid_namespaces_on_one_folder(small_project, run_cli):
    """Run A (its own PID namespace) is stopped while it writes; run B (another namespace) on the
    same folder must not remove A's staging; A then finishes and every file it lists is there."""
    out = small_project.parent / "out"
    code, _, err = run_cli("coverage", "--config", small_project, "--out", out)  # out exists
    assert code == 0, err
    first = subprocess.Popen(_cli("run", "--config", small_project, "--out", out, "--lang", "en",
                                  namespace=True),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while (folder_a := _staging_of(out)) is None and first.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert folder_a is not None, "run A ended before it was caught writing"
        os.killpg(first.pid, signal.SIGSTOP)
        second = subprocess.run(_cli("coverage", "--config", small_project, "--out", out,
                                     namespace=True),
                                capture_output=True, text=True, timeout=300)  # fmt: skip
        assert second.returncode == 0, second.stderr
        assert folder_a.is_dir() and (folder_a / MARKER).is_file()
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    listed = json.loads((out / "summary.json").read_text("utf-8"))["outputs"]
    assert len(listed) >= 10 and all((out / name).is_file() for name in listed)
    assert not list(out.glob(f"{staging.STAGING_PREFIX}*"))


# -- inputs that never end, and the OS errors of a path ---------------------------------------


@pytest.fixture
def project(small_project: Path) -> Path:
    return small_project


def _network(project: Path, name: str) -> Path:
    _edit(project, "[facilities]", f'[network]\npath = "{name}"\n[facilities]')
    return project.parent / name


def _checked(run_cli, project: Path, expected: str, *extra: str) -> None:
    """Run the whole command on ``project``: one line with ``expected``, exit 2, inputs and
    ``--out`` as before."""
    out = project.parent / "out"
    before = snapshot(project.parent)
    code, _, err = run_cli("run", "--config", project, "--out", out, "--lang", "en", *extra)
    assert_clean(code, err, expected)
    assert snapshot(project.parent) == before and not out.exists()


@pytest.mark.parametrize("section", ["network", "communities", "facilities"])
def test_a_fifo_as_an_input(project, run_cli, section):
    fifo = project.parent / f"{section}.fifo"
    os.mkfifo(fifo)
    if section == "network":
        _network(project, fifo.name)
    else:
        old = {"communities": "communities.gpkg", "facilities": "facilities.csv"}[section]
        _edit(project, f'path = "{old}"', f'path = "{fifo.name}"')
    _checked(run_cli, project, f"[{section}] path must be a regular file, not a named pipe")


def test_a_fifo_or_a_device_as_the_project_file(tmp_path, run_cli):
    fifo = tmp_path / "project.toml"
    os.mkfifo(fifo)
    for config in (fifo, Path("/dev/zero")):
        code, _, err = run_cli("check", "--config", config, "--lang", "en")
        assert_clean(code, err, "the project file must be a regular file, not a")


def test_a_device_linked_as_the_network(project, run_cli):
    (project.parent / "zero.osm").symlink_to("/dev/zero")
    _network(project, "zero.osm")
    _checked(run_cli, project, "[network] path must be a regular file, not a device")


@pytest.mark.parametrize("suffix, opener", [(".osm.bz2", bz2.open), (".osm.gz", gzip.open)])
def test_a_compressed_network_that_expands_without_bound(project, run_cli, suffix, opener):
    """Valid XML that goes on (whitespace): stopped at [project] input_limit_mb."""
    path = _network(project, f"bomb{suffix}")
    with opener(path, "wb") as stream:
        stream.write(b'<?xml version="1.0"?>\n<osm version="0.6">\n')
        for _ in range(6):
            stream.write(b" " * (1 << 20))
    assert path.stat().st_size < 50_000
    _edit(project, 'name = "测试"', 'name = "测试"\ninput_limit_mb = 4')
    _checked(run_cli, project, "expands to more than 4 MB ([project] input_limit_mb)")


def test_a_spreadsheet_with_a_gigantic_cell(project, run_cli):
    book = project.parent / "facilities.xlsx"
    cell = "x" * (3 << 20)  # 3 MB in one cell (Excel allows 32,767 characters)
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{cell}</t></is></c></row>'
             "</sheetData></worksheet>")  # fmt: skip
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    assert book.stat().st_size < 50_000
    _edit(project, 'path = "facilities.csv"', 'path = "facilities.xlsx"')
    _edit(project, 'name = "测试"', 'name = "测试"\ntable_limit_mb = 2')
    _checked(run_cli, project, "expands to more than 2 MB ([project] table_limit_mb)")


@pytest.mark.parametrize("value", ["0", '"big"', "-1"])
def test_the_limit_setting_is_checked(project, run_cli, value):
    _edit(project, 'name = "测试"', f'name = "测试"\ninput_limit_mb = {value}')
    _checked(run_cli, project, "[project] input_limit_mb")


def test_a_symlink_loop_as_a_layer(project, run_cli):
    (project.parent / "a.gpkg").symlink_to("b.gpkg")
    (project.parent / "b.gpkg").symlink_to("a.gpkg")
    _edit(project, 'path = "communities.gpkg"', 'path = "a.gpkg"')
    _checked(run_cli, project, "cannot open [communities] path (Too many levels of symbolic links)")


def test_a_name_too_long_as_the_network(project, run_cli):
    _network(project, "n" * 300 + ".osm")
    _checked(run_cli, project, "cannot open [network] path (File name too long)")


def test_a_folder_where_a_file_is_expected(project, run_cli):
    (project.parent / "roads.osm").mkdir()
    _network(project, "roads.osm")
    _checked(run_cli, project, "[network] path must be a regular file, not a folder")


def test_permission_denied_on_an_input(project, run_cli, monkeypatch):
    """(As root nothing is denied: the refusal is simulated where the guard opens the file.)"""
    real = os.open

    def denied(path, *args, **kwargs):
        if Path(path).name == "facilities.csv":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(input_guard.os, "open", denied)
    _checked(run_cli, project, "cannot open [facilities] path (Permission denied)")


@pytest.mark.parametrize("out", ["loop", "x" * 300, "dangling"])
def test_os_errors_of_out(project, run_cli, out):
    (project.parent / "loop").symlink_to("loop")
    (project.parent / "dangling").symlink_to("nowhere")
    before = snapshot(project.parent)
    code, _, err = run_cli("coverage", "--config", project, "--out", project.parent / out)
    assert_clean(code, err, "--out")
    assert snapshot(project.parent) == before


def _mounted(folder: Path, size: str) -> bool:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, check=False)  # fmt: skip
    return done.returncode == 0


def test_out_as_the_root_of_a_mounted_file_system(project, run_cli):
    """A USB stick: --out is a mount point (its parent another file system): staged inside."""
    usb = project.parent / "usb"
    if not _mounted(usb, "50m"):
        pytest.skip("cannot mount a tmpfs here")
    try:
        (usb / "notes.txt").write_text("the planner's", "utf-8")
        code, _, err = run_cli("coverage", "--config", project, "--out", usb)
        assert code == 0, err
        assert {p.name for p in usb.iterdir()} == {"lifecircle.gpkg", "summary.json", "notes.txt"}
    finally:
        subprocess.run(["umount", "-l", str(usb)], check=False)  # lazy: a closing handle


@pytest.mark.slow
@pytest.mark.parametrize("size", ["100k", "200k", "1200k"])
def test_a_small_full_disk(project, run_cli, size):
    """The GeoPackage's commit and the PDF writer's close fail in their own words on a full
    disk: that is "no space left", exit 2, --out as before."""
    disk = project.parent / "disk"
    if not _mounted(disk, size):
        pytest.skip("cannot mount a tmpfs here")
    try:
        (disk / "out").mkdir()
        (disk / "out" / "notes.txt").write_text("the planner's", "utf-8")
        before = snapshot(project.parent)
        code, _, err = run_cli("run", "--config", project, "--out", disk / "out", "--lang", "en")
        assert_clean(code, err, "No space left on device")
        assert snapshot(project.parent) == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)  # lazy: a closing handle


@pytest.mark.slow
@pytest.mark.parametrize("where", ["gpkg", "pdf"])
def test_full_disk_in_a_librarys_own_words(project, run_cli, monkeypatch, where):
    """Where no tmpfs can be mounted: the two libraries' errors raised in-process, on a file
    system reported full."""
    import pyogrio.errors

    from spatial.outputs.printing import pack as printmap

    out, before = _first_run(project, run_cli)
    if where == "gpkg":

        def fail(target, layers, *looks):  # noqa: ARG001
            raise pyogrio.errors.DataSourceError("Failed to commit transaction")

        monkeypatch.setattr(staging, "write_gpkg", fail)
    else:

        def fail(*args, **kwargs):  # noqa: ARG001
            try:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            except OSError:
                raise zlib.error("Error -2 while flushing: inconsistent stream state")  # noqa: B904

        monkeypatch.setattr(printmap, "write_map_pages", fail)
    full = os.statvfs_result((4096, 4096, 100, 0, 0, 10, 0, 0, 0, 255))
    monkeypatch.setattr(staging.os, "statvfs", lambda folder: full)
    code, _, err = run_cli("run", "--config", project, "--out", out, "--lang", "en")
    assert_clean(code, err, "No space left on device")
    assert snapshot(project.parent) == before


@pytest.mark.parametrize("command", ["init", "demo"])
@pytest.mark.parametrize("name", ["x" * 300, "loop"])
def test_os_errors_of_the_init_and_demo_folder(tmp_path, run_cli, command, name):
    (tmp_path / "loop").symlink_to("loop")
    code, _, err = run_cli(command, tmp_path / name, "--lang", "en")
    assert_clean(code, err, "")
    assert "internal error" not in err
    assert {p.name for p in tmp_path.iterdir()} == {"loop"}
