"""The app driven the way a planner drives it: ``lifecircle serve`` as a process and headless
Chromium (Playwright with the system Chromium) clicking through data → check → a column changed →
settings → run → results → the overview map → the zip, compared with ``lifecircle run``; every
request off the loopback address is blocked. Screenshots of each step go to ``tmp_path/shots``
(and to ``$LIFECIRCLE_SHOTS`` when set)."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.app.test_app import _comparable, _free_port, _zip
from tests.conftest import ARGS, CHROMIUM

pytest.importorskip("starlette")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["serve", "--no-browser", "--port", str(port), "--workspace", str(tmp_path / "ws")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "spatial", *args], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline()
        yield re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line).group(), tmp_path / "ws"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def page(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        blocked = []

        def guard(route):
            if route.request.url.startswith("http://127.0.0.1:"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.blocked = blocked
        yield page
        browser.close()


def _shot(page, tmp_path: Path, name: str) -> None:
    shots = tmp_path / "shots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=shots / f"{name}.png", full_page=True)
    if os.environ.get("LIFECIRCLE_SHOTS"):
        Path(os.environ["LIFECIRCLE_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(shots / f"{name}.png", Path(os.environ["LIFECIRCLE_SHOTS"]) / f"{name}.png")


def _wait_run(page) -> None:
    page.wait_for_selector("p.ok, p.error", timeout=600_000)


def test_a_planner_walks_the_demo_in_the_browser(served, page, tmp_path, run_cli):
    url, ws = served
    for _ in range(100):
        try:
            page.goto(url)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            page.wait_for_timeout(100)
    assert "token" not in page.url
    _shot(page, tmp_path, "1_data")
    page.click("#demo")
    page.wait_for_url("**/p/demo/check")
    assert page.locator("table.grid").first.inner_text().count("134") == 2
    _shot(page, tmp_path, "2_check")
    page.select_option('select[name="col:communities:name"]', "所属街道")
    page.click("form[action$='/columns'] button")
    page.wait_for_url("**/p/demo/check")
    assert page.locator('select[name="col:communities:name"]').input_value() == "所属街道"
    page.click("nav a:has-text('设置')")
    page.select_option('select[name="basemap"]', "none")
    page.fill('input[name="radius_market"]', "-1")
    page.click("form button")
    assert "radius.market = -1 不允许" in page.locator("p.error").inner_text()
    _shot(page, tmp_path, "3_settings_refused")
    page.fill('input[name="radius_market"]', "")
    page.select_option('select[name="basemap"]', "none")
    page.click("form button")
    assert "已保存" in page.locator("p.ok").inner_text()
    page.click("nav a:has-text('运行')")
    page.click("#start")
    page.wait_for_selector("p.running", timeout=20_000)
    _shot(page, tmp_path, "4_running")
    _wait_run(page)
    assert "分析完成" in page.locator("p.ok").inner_text()
    page.click("p.ok a")
    page.wait_for_url("**/p/demo/results")
    frame = page.frame_locator("iframe.map")
    frame.locator(".leaflet-container").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    _shot(page, tmp_path, "5_results")
    with page.expect_download() as info:
        page.click("#zip")
    data = Path(info.value.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        app_summary = json.loads(z.read("summary.json"))
    folder = ws / "demo"
    code, _, err = run_cli("run", "--config", str(folder), "--out", str(tmp_path / "cli"))
    assert code == 0, err
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text("utf-8"))
    assert _comparable(app_summary) == _comparable(cli_summary)
    assert page.blocked == []  # nothing fetched from elsewhere (basemap none, no CDN)


def test_a_planner_uploads_a_gbk_shapefile_zip_and_a_gaode_csv(served, page, tmp_path):
    import geopandas as gpd

    from spatial.workflow.demo_files import write_demo

    url, ws = served
    write_demo(tmp_path / "src")
    comm = gpd.read_file(tmp_path / "src" / "communities.gpkg")
    comm.loc[comm["小区编号"] == "LS010", "小区编号"] = "<img src=x onerror=alert(1)>"
    shp = tmp_path / "shp"
    shp.mkdir()
    comm.to_file(shp / "小区.shp", encoding="GBK")
    (shp / "小区.cpg").unlink(missing_ok=True)
    (tmp_path / "小区.zip").write_bytes(_zip({p.name: p.read_bytes() for p in shp.iterdir()}))
    shutil.copy(tmp_path / "src" / "facilities.csv", tmp_path / "高德POI.csv")
    for _ in range(100):
        try:
            page.goto(url)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            page.wait_for_timeout(100)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.fill('input[name="name"]', "兰山试点")
    page.set_input_files('input[name="communities"]', str(tmp_path / "小区.zip"))
    page.set_input_files('input[name="facilities"]', str(tmp_path / "高德POI.csv"))
    page.set_input_files('input[name="network"]', str(tmp_path / "src" / "network.osm"))
    _shot(page, tmp_path, "6_upload")
    page.click("form[action='/new'] button")
    page.wait_for_url("**/check")
    body = page.locator("main").inner_text()
    assert "<img src=x onerror=alert(1)>" in body and dialogs == []
    assert "（自动识别）: 小区名称" in body
    _shot(page, tmp_path, "7_upload_check")
    assert (ws / "兰山试点" / "project.toml").is_file()


@pytest.fixture
def served_here(tmp_path, monkeypatch):
    """The app served by uvicorn in a thread of this process (so a test can hold a stage):
    its URL with the token and the workspace; ``held`` holds every run's coverage stage
    until set."""
    import secrets
    import threading

    import uvicorn

    import spatial.workflow.pipeline as pipeline
    from spatial.app.server import HOST, build_app
    from spatial.app.view import AppSettings

    original, held = pipeline.coverage_stage, threading.Event()
    monkeypatch.setattr(pipeline, "coverage_stage", lambda r, p: (held.wait(60), original(r, p))[1])
    port, token = _free_port(), secrets.token_urlsafe(32)
    settings = AppSettings(workspace=tmp_path / "ws", port=port)
    config = uvicorn.Config(build_app(settings, token), host=HOST, port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    try:
        yield f"http://{HOST}:{port}/?token={token}", tmp_path / "ws", held
    finally:
        held.set()
        server.should_exit = True
        thread.join(10)


@pytest.mark.browser
def test_a_planner_cancels_a_run_and_finds_it_in_the_runs_list(served_here, page, tmp_path):
    from tests.app.test_runs import _small

    url, ws, held = served_here
    folder = _small(ws / "试点")
    with (folder / "project.toml").open("a", encoding="utf-8") as toml:
        toml.write('[render]\nbasemap = "none"\n')  # no tiles from elsewhere
    page.goto(url)
    page.click("a:has-text('试点')")
    page.click("nav a:has-text('运行')")
    page.click("#start")
    page.wait_for_selector("p.running:has-text('读取步行路网')", timeout=30_000)  # held there
    assert page.locator("#cancel").count() == 1
    _shot(page, tmp_path, "8_running_cancel")
    page.click("#cancel")
    assert "正在取消" in page.locator("p.running").inner_text()
    assert page.locator("#cancel").count() == 0
    held.set()
    page.wait_for_selector("p.cancelled", timeout=60_000)  # the page reloads itself
    said = page.locator("p.cancelled").inner_text()
    assert said.startswith("已取消（停在「读取步行路网」阶段）") and "之前的结果未改动" in said
    _shot(page, tmp_path, "9_cancelled")
    page.click("#start")  # again, to the end
    _wait_run(page)
    assert "分析完成" in page.locator("p.ok").inner_text()
    page.click("p.ok a")
    page.wait_for_url("**/results")
    page.frame_locator("iframe.map").locator(".leaflet-container").first.wait_for(timeout=30_000)
    rows = page.locator("#runs tr")
    assert rows.count() == 3  # the header, the run done, the run cancelled
    assert "成功" in rows.nth(1).inner_text() and "正在查看" in rows.nth(1).inner_text()
    assert "已取消（读取步行路网）" in rows.nth(2).inner_text()
    assert "户数" in rows.nth(1).inner_text()  # its headline figure
    _shot(page, tmp_path, "10_results_runs")
    with page.expect_download() as info:
        rows.nth(1).locator("a:has-text('下载 zip')").click()
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as z:
        assert "summary.json" in z.namelist()
    assert page.blocked == []
