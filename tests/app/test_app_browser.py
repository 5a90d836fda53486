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

    from spatial.workflow.demo import write_demo

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
