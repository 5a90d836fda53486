"""The app's runs: Cancel (between stages, and a forked worker's call at once), the project's runs
listed with each run in its own folder, the guard on run names, and a large run forking from the
app's thread (the same summary as the command line's; no worker left after a cancel)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")

from spatial.app import history  # noqa: E402
from spatial.core import parallel  # noqa: E402

from ..conftest import small_communities, small_facilities_csv  # noqa: E402
from .test_app import _client, _comparable, _wait  # noqa: E402


def _small(folder: Path, name: str = "测试") -> Path:
    """The small hand-built project (4 compounds, 2 facilities, no network) in ``folder``."""
    folder.mkdir(parents=True)
    small_communities().to_file(folder / "communities.gpkg", driver="GPKG")
    small_facilities_csv(folder / "facilities.csv")
    (folder / "project.toml").write_text(
        f'[project]\nname = "{name}"\n[communities]\npath = "communities.gpkg"\n'
        '[facilities]\npath = "facilities.csv"\ncoords = "gcj02"\n',
        encoding="utf-8",
    )
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def gate(monkeypatch):
    """The coverage stage held until ``gate.set()``; ``gate.entered`` counts the runs held."""
    import spatial.workflow.pipeline as pipeline

    original = pipeline.coverage_stage
    held = threading.Event()
    held.entered = 0
    lock = threading.Lock()

    def slow(result, progress):
        with lock:
            held.entered += 1
        held.wait(60)
        return original(result, progress)

    monkeypatch.setattr(pipeline, "coverage_stage", slow)
    yield held
    held.set()


def _until(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.slow  # whole runs of the small project
def test_cancel_stops_between_stages_writes_nothing_and_another_project_runs_on(tmp_path, gate):
    ws = tmp_path / "ws"
    a, b = _small(ws / "a"), _small(ws / "b")
    client = _client(ws)
    gate.set()  # a first, whole run of a: the earlier results a cancel must leave alone
    client.post("/p/a/run")
    assert "分析完成" in _wait(client, "a").text
    before = _files(a)
    assert sum(1 for n in before if n.startswith("runs/") and n.endswith("/summary.json")) == 1
    gate.clear()
    client.post("/p/a/run")
    client.post("/p/b/run")
    _until(lambda: gate.entered == 3)  # both held in their coverage stage
    running = client.get("/p/a/run").text
    assert 'id="cancel"' in running and 'action="/p/a/cancel"' in running
    cancelling = client.post("/p/a/cancel")
    assert "正在取消" in cancelling.text and 'id="cancel"' not in cancelling.text
    gate.set()
    ended = _wait(client, "a").text
    assert "已取消（停在「读取步行路网」阶段）" in ended and 'id="start"' in ended
    assert "分析完成" in _wait(client, "b").text  # the other project's run went on
    runs = client.app.app.state.settings.runs
    job_a, job_b = runs.get(a), runs.get(b)
    assert (job_a.state, job_a.stage) == ("cancelled", "network")
    assert job_b.state == "done"
    after = _files(a)
    record = f"runs/{job_a.record.id}.json"
    assert set(after) - set(before) == {record}  # its record only: no folder, no staging
    assert all(after[n] == before[n] for n in before)  # earlier outputs byte for byte
    saved = json.loads(after[record])
    assert (saved["state"], saved["stage"], saved["lang"]) == ("cancelled", "network", "zh")
    assert (b / "runs" / job_b.record.id / "summary.json").is_file()
    assert client.post("/p/a/cancel").status_code == 200  # nothing running: nothing to do


@pytest.mark.slow  # whole runs of the small project
def test_cancel_while_writing_leaves_no_partial_output(tmp_path, monkeypatch):
    import spatial.workflow.pipeline as pipeline

    ws = tmp_path / "ws"
    a = _small(ws / "a")
    client = _client(ws)
    original, held, seen = pipeline.write_map_files, threading.Event(), []

    def slow(result, out, lang, font, also, progress=None):
        files = also()  # the GeoPackage, written into the staging folder
        seen.append([p.name for p in out.iterdir()])
        held.wait(60)
        return original(result, out, lang, font, lambda: files, progress)

    monkeypatch.setattr(pipeline, "write_map_files", slow)
    client.post("/p/a/run")
    _until(lambda: seen)
    assert "lifecircle.gpkg" in seen[0]
    client.post("/p/a/cancel")
    held.set()
    assert "已取消（停在「写出 GeoPackage」阶段）" in _wait(client, "a").text
    job = client.app.app.state.settings.runs.get(a)
    assert sorted(p.name for p in (a / "runs").iterdir()) == [f"{job.record.id}.json"]
    assert not [p for p in a.rglob("*.gpkg") if p.name != "communities.gpkg"]


@pytest.mark.slow  # whole runs of the small project
def test_the_runs_list_shows_each_run_and_old_runs_stay_downloadable(tmp_path, gate):
    import io
    import zipfile

    ws = tmp_path / "ws"
    a = _small(ws / "a")
    client = _client(ws)
    gate.set()
    client.post("/p/a/run")
    _wait(client, "a")
    first = client.app.app.state.settings.runs.get(a).record
    client.get("/lang/en?next=/")
    client.post("/p/a/run")  # the second run in English
    _wait(client, "a")
    second = client.app.app.state.settings.runs.get(a).record
    client.get("/lang/zh?next=/")
    assert first.id != second.id and second.lang == "en" and first.lang == "zh"
    page = client.get("/p/a/results").text
    table = page.split('id="runs"')[1]
    assert table.count("<tr class=") == 2 and table.count("成功") == 2
    assert "中文" in table and "英文" in table
    share = json.loads((a / "runs" / first.id / "summary.json").read_text("utf-8"))
    shown = f"户数 {share['coverage']['full_coverage_households']:.1%}"
    assert table.count(shown) == 2  # the headline figure of each run
    assert f'src="/p/a/runs/{second.id}/out/overview.html"' in page  # the latest by default
    older = client.get(f"/p/a/results?run={first.id}").text
    assert f'src="/p/a/runs/{first.id}/out/overview.html"' in older
    archive = client.get(f"/p/a/runs/{first.id}/zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert json.loads(z.read("summary.json"))["generated"] == share["generated"]
    latest = client.get("/p/a/zip")  # the latest run's, as before
    with zipfile.ZipFile(io.BytesIO(latest.content)) as z:
        assert "Households" in z.read("overview.html").decode("utf-8")  # in English


def test_run_names_cannot_leave_the_project_folder(tmp_path):
    ws = tmp_path / "ws"
    a = _small(ws / "a")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = {"project": "x", "communities": 1, "old_communities": 0}
    secret["outputs"] = ["secret.txt", "summary.json"]
    (outside / "summary.json").write_text(json.dumps(secret), "utf-8")
    (outside / "secret.txt").write_text("TOP-SECRET-CONTENT", "utf-8")
    runs = a / "runs"
    runs.mkdir()
    (runs / "20990101-000000").symlink_to(outside)  # a run folder that is a link out
    (runs / "20990101-000000.json").write_text(
        json.dumps({"state": "done", "started": "2099-01-01T00:00:00"}), "utf-8"
    )
    hostile = {"id": "../../outside", "state": "failed", "started": "2098-01-01T00:00:00"}
    hostile["message"] = {"zh": "<script>alert(1)</script>"}
    (runs / "20980101-000000.json").write_text(json.dumps(hostile), "utf-8")
    (runs / "..json").write_text("{}", "utf-8")
    client = _client(ws)
    for url in (
        "/p/a/runs/20990101-000000/zip",
        "/p/a/runs/20990101-000000/out/secret.txt",
        "/p/a/runs/..%2F..%2Foutside/zip",
        "/p/a/runs/..%2F..%2Foutside/out/secret.txt",
        "/p/a/results?run=../../outside",
        "/p/a/results?run=%2Ftmp",
    ):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert "TOP-SECRET-CONTENT" not in answer.text and answer.content[:2] != b"PK"
    page = client.get("/p/a/results").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    listed = history.records(a)
    assert [r.id for r in listed] == ["20990101-000000", "20980101-000000"]  # file names only
    assert not listed[0].has_outputs(a)  # its folder is outside: never served
    (a / "maps").symlink_to(outside)  # the command line's folder as a link out: not listed
    assert [r.id for r in history.records(a)] == ["20990101-000000", "20980101-000000"]


def test_a_run_the_app_did_not_see_end_is_listed_as_interrupted(tmp_path):
    ws = tmp_path / "ws"
    a = _small(ws / "a")
    record, other = history.claim(a, "zh"), history.claim(a, "zh")
    assert other.id != record.id  # two starts in one second: two ids, two record files
    assert {r.id: r.state for r in history.records(a)} == {
        record.id: "interrupted",
        other.id: "interrupted",
    }
    live = {r.id: r.state for r in history.records(a, live=record.id)}
    assert live == {record.id: "running", other.id: "interrupted"}
    page = _client(ws).get("/p/a/results").text
    assert page.count("中断（应用在运行中停止）") == 2


@pytest.mark.slow  # whole runs of the small project
def test_the_command_lines_folder_is_listed_as_a_run(tmp_path, run_cli):
    ws = tmp_path / "ws"
    a = _small(ws / "a")
    assert run_cli("run", "--config", str(a), "--out", str(a / "maps"))[0] == 0
    listed = history.records(a)
    assert [(r.id, r.state) for r in listed] == [("maps", "done")]
    page = _client(ws).get("/p/a/results").text
    assert "（命令行，maps 文件夹）" in page and 'src="/p/a/runs/maps/out/overview.html"' in page


# --- a large run: forked workers started from the app's thread ----------------------------------


def _children() -> set[int]:
    """This process's child processes (from /proc)."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.add(int(entry.name))
    return found


@pytest.fixture
def forking(monkeypatch):
    """Every run takes the forking path (the threshold at one community); yields the threads
    that started forked workers."""
    from spatial.core import settings

    if not parallel.can_fork():
        pytest.skip("no fork here")
    monkeypatch.setattr(settings, "PARALLEL_FROM", 1)
    original, threads = parallel.started, []

    def spy(calls, workers=None):
        threads.append(threading.current_thread().name)
        return original(calls, workers)

    monkeypatch.setattr(parallel, "started", spy)
    return threads


@pytest.mark.slow
def test_a_large_run_forks_from_the_apps_thread_and_matches_the_cli(tmp_path, forking, run_cli):
    ws = tmp_path / "ws"
    client = _client(ws)
    client.post("/demo")
    client.post("/p/demo/run")
    assert "分析完成" in _wait(client, "demo").text
    assert len(forking) == 2 and threading.main_thread().name not in forking  # analysis, write
    job = client.app.app.state.settings.runs.get(ws / "demo")
    app_summary = json.loads((ws / "demo" / "runs" / job.record.id / "summary.json").read_text())
    code, _, err = run_cli("run", "--config", str(ws / "demo"), "--out", str(tmp_path / "cli"))
    assert code == 0, err
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text("utf-8"))
    assert _comparable(app_summary) == _comparable(cli_summary)
    assert len(forking) == 4  # the command line forked too


def _held_bundle(marker: Path):
    """A bundle stage that never ends (in a forked worker): it marks that it began, then waits."""

    def held(result):
        marker.write_text(str(os.getpid()))
        while True:
            time.sleep(0.05)

    return held


@pytest.mark.slow
def test_cancel_stops_a_forked_workers_call_and_leaves_no_process(tmp_path, forking, monkeypatch):
    import spatial.workflow.pipeline as pipeline

    ws = tmp_path / "ws"
    client = _client(ws)
    client.post("/demo")
    marker = tmp_path / "bundle-began"
    monkeypatch.setattr(pipeline, "bundle_stage", _held_bundle(marker))
    before = _children()
    client.post("/p/demo/run")
    _until(marker.exists, 300)
    worker = int(marker.read_text())
    assert worker in _children() - before  # the held call runs in a forked worker
    started = time.monotonic()
    client.post("/p/demo/cancel")
    ended = _wait(client, "demo", timeout=60).text
    assert "已取消" in ended
    assert time.monotonic() - started < 30  # not the stage's end: it had none
    _until(lambda: not (_children() - before), 10)  # every worker ended and was reaped
    assert not Path(f"/proc/{worker}").exists()
    folder = ws / "demo"
    job = client.app.app.state.settings.runs.get(folder)
    assert job.state == "cancelled" and not (folder / "runs" / job.record.id).exists()
    assert [p.name for p in (folder / "runs").iterdir()] == [f"{job.record.id}.json"]
