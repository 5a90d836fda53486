"""The local web app (``lifecircle serve``): who may drive it, what uploads may bring in, and
the planner's path on the demo through Starlette's TestClient (the same pipeline as the CLI)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from spatial.app.server import build_app  # noqa: E402
from spatial.app.uploads import Limits  # noqa: E402
from spatial.app.view import AppSettings  # noqa: E402

PORT = 8765
TOKEN = "test-token-123"
BASE = f"http://127.0.0.1:{PORT}"


def _client(workspace, limits=None, token=True):
    settings = AppSettings(workspace=workspace, port=PORT, limits=limits or Limits())
    client = TestClient(build_app(settings, TOKEN), base_url=BASE)
    if token:
        first = client.get(f"/?token={TOKEN}")
        assert first.status_code == 200
        assert first.url.query == b""  # the token left the URL for a cookie
    return client


@pytest.fixture
def client(tmp_path):
    return _client(tmp_path / "ws")


def test_no_token_or_a_wrong_one_is_refused(tmp_path):
    bare = _client(tmp_path, token=False)
    assert bare.get("/").status_code == 403
    assert bare.get("/?token=wrong").status_code == 403
    assert bare.post("/demo").status_code == 403
    assert not (tmp_path / "demo").exists()


def test_the_token_becomes_an_httponly_strict_cookie(tmp_path):
    bare = _client(tmp_path, token=False)
    first = bare.get(f"/?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN.lower() in cookie
    assert bare.get("/").status_code == 200


def test_a_foreign_host_or_origin_is_refused_even_with_the_token(client):
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 403
    assert client.get("/", headers={"host": "127.0.0.1:9999"}).status_code == 403
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200
    hostile = client.post("/demo", headers={"origin": "http://evil.example"})
    assert hostile.status_code == 403
    assert client.get("/", headers={"origin": f"http://localhost:{PORT}"}).status_code == 200


def _upload(client, files, name="p"):
    return client.post("/new", data={"name": name}, files=files)


@pytest.mark.parametrize("bad", ["../evil.geojson", "/etc/evil.geojson", "..", ".hidden.csv"])
def test_unsafe_upload_names_are_refused_and_nothing_is_written(tmp_path, bad):
    ws = tmp_path / "ws"
    client = _client(ws)
    done = _upload(client, [("communities", (bad, b"{}", "application/json"))])
    assert done.status_code == 400
    assert "err_app" not in done.text and "不安全" in done.text
    assert not (tmp_path / "evil.geojson").exists()
    assert list(ws.iterdir()) == [] if ws.exists() else True


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_slip_archive_is_refused_before_anything_is_extracted(tmp_path):
    ws = tmp_path / "ws"
    client = _client(ws)
    data = _zip({"ok.geojson": b"{}", "../../escaped.txt": b"x"})
    done = _upload(client, [("communities", ("layer.zip", data, "application/zip"))])
    assert done.status_code == 400 and "../../escaped.txt" in done.text and "指向包外" in done.text
    assert not (tmp_path / "escaped.txt").exists() and not (ws / "escaped.txt").exists()
    assert [p for p in ws.rglob("*") if p.is_file()] == []  # the new folder was removed


def test_a_zip_bomb_is_refused_by_its_uncompressed_size_and_member_count(tmp_path):
    ws = tmp_path / "ws"
    client = _client(ws, Limits(unzip_mb=1, members=5))
    big = zipfile.ZipFile  # 2 MB of zeros compress to a few kB
    buffer = io.BytesIO()
    with big(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.csv", b"0" * 2_000_000)
    done = _upload(client, [("communities", ("bomb.zip", buffer.getvalue(), "application/zip"))])
    assert done.status_code == 400 and "解压后超过上限" in done.text
    many = _zip({f"f{i}.csv": b"x" for i in range(6)})
    done = _upload(client, [("communities", ("many.zip", many, "application/zip"))])
    assert done.status_code == 400
    assert [p for p in ws.rglob("*") if p.is_file()] == []


def test_an_oversized_upload_is_refused(tmp_path):
    ws = tmp_path / "ws"
    client = _client(ws, Limits(upload_mb=0.01))
    done = _upload(client, [("communities", ("c.geojson", b" " * 20_000, "application/json"))])
    assert done.status_code == 413
    assert "0.01" in done.text
    assert not ws.exists() or [p for p in ws.rglob("*") if p.is_file()] == []


def _wait(client, name, timeout=600):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        page = client.get(f"/p/{name}/run")
        if 'http-equiv="refresh"' not in page.text:
            return page
        time.sleep(0.5)
    raise AssertionError("the run did not end")


def _comparable(block: object) -> object:
    """A summary without its timings (``generated``, ``timings_s``, a solver's ``seconds``)."""
    if isinstance(block, dict):
        drop = ("generated", "timings_s", "seconds")
        return {k: _comparable(v) for k, v in block.items() if k not in drop}
    if isinstance(block, list):
        return [_comparable(v) for v in block]
    return block


def test_demo_check_change_a_column_run_results_zip_match_the_cli(tmp_path, run_cli):
    ws = tmp_path / "ws"
    client = _client(ws)
    check = client.post("/demo")
    assert check.status_code == 200 and check.url.path == "/p/demo/check"
    assert "<td>小区</td><td>134</td><td>134</td><td>EPSG:4548</td>" in check.text
    assert "（自动识别）: 小区名称" in check.text
    # the name column chosen from the drop-down: into project.toml, and the page checks again
    form = {"col:communities:name": "所属街道", "col:communities:id": "小区编号"}
    check = client.post("/p/demo/columns", data=form)
    assert check.status_code == 200
    assert '<option value="所属街道" selected>' in check.text
    from spatial.config.project import load_project

    folder = ws / "demo"
    assert load_project(folder / "project.toml").communities.columns["name"] == "所属街道"
    assert client.get("/p/demo/results").text.count("还没有结果") == 1
    started = client.post("/p/demo/run")
    assert started.status_code == 200
    assert client.post("/p/demo/run").status_code in (200, 400)  # refused only while running
    ended = _wait(client, "demo")
    assert "分析完成" in ended.text, ended.text
    results = client.get("/p/demo/results")
    assert "全覆盖" in results.text
    assert re.search(r'src="/p/demo/runs/\d{8}-\d{6}/out/overview.html"', results.text)
    overview = client.get("/p/demo/out/overview.html")
    assert overview.status_code == 200 and overview.text.startswith("<!DOCTYPE html>")
    assert client.get("/p/demo/out/project.toml").status_code == 404  # only the outputs
    archive = client.get("/p/demo/zip")
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = set(z.namelist())
        app_summary = json.loads(z.read("summary.json"))
    assert {"overview.html", "ledger.xlsx", "lifecircle.gpkg", "summary.json"} <= names
    assert app_summary["priority"]["top_communities"][0]["name"].endswith("街道")
    code, _, err = run_cli("run", "--config", str(folder), "--out", str(tmp_path / "cli"))
    assert code == 0, err
    cli_summary = json.loads((tmp_path / "cli" / "summary.json").read_text("utf-8"))
    assert _comparable(app_summary) == _comparable(cli_summary)


def test_a_second_run_of_one_project_is_refused_while_the_first_runs(tmp_path):
    from spatial.app.jobs import Runs
    from spatial.core.errors import InputError

    runs = Runs()
    folder = tmp_path / "p"
    folder.mkdir()  # no project file: the run fails fast, after the refusal below
    import threading

    gate = threading.Event()
    import spatial.app.jobs as jobs

    original = jobs._run
    jobs._run = lambda *a: gate.wait(10)
    try:
        runs.start(folder, "zh")
        with pytest.raises(InputError, match="running"):
            runs.start(folder, "en")
    finally:
        gate.set()
        jobs._run = original


def test_a_hostile_community_id_and_project_name_are_shown_literally(tmp_path):
    import geopandas as gpd

    from spatial.workflow.demo_files import write_demo

    ws = tmp_path / "ws"
    hostile = "<script>alert(1)</script>"
    write_demo(tmp_path / "src")
    comm = gpd.read_file(tmp_path / "src" / "communities.gpkg")
    comm.loc[comm["小区编号"] == "LS010", "小区编号"] = hostile  # LS010 has no built year
    comm.to_file(tmp_path / "src" / "hostile.gpkg")
    client = _client(ws)
    files = [
        ("communities", ("hostile.gpkg", (tmp_path / "src" / "hostile.gpkg").read_bytes())),
        ("facilities", ("facilities.csv", (tmp_path / "src" / "facilities.csv").read_bytes())),
        ("network", ("network.osm", (tmp_path / "src" / "network.osm").read_bytes())),
    ]
    check = _upload(client, files, name=hostile)
    assert check.status_code == 200, check.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in check.text
    assert "<script>" not in check.text
    assert check.text.count("&lt;script&gt;") >= 2  # the project's name and the warning's id


def test_an_uploaded_gbk_shapefile_zip_and_a_gaode_csv_open_as_a_project(tmp_path):
    import geopandas as gpd

    from spatial.workflow.demo_files import write_demo

    write_demo(tmp_path / "src")
    comm = gpd.read_file(tmp_path / "src" / "communities.gpkg")
    shp = tmp_path / "shp"
    shp.mkdir()
    comm.to_file(shp / "小区.shp", encoding="GBK")
    (shp / "小区.cpg").unlink(missing_ok=True)  # as bureaus hand them out: no .cpg
    members = {f"数据/{p.name}": p.read_bytes() for p in shp.iterdir()}
    ws = tmp_path / "ws"
    client = _client(ws)
    files = [
        ("communities", ("小区.zip", _zip(members), "application/zip")),
        ("facilities", ("高德POI.csv", (tmp_path / "src" / "facilities.csv").read_bytes())),
        ("network", ("network.osm", (tmp_path / "src" / "network.osm").read_bytes())),
    ]
    check = _upload(client, files, name="兰山 试点")
    assert check.status_code == 200, check.text
    assert check.url.path == "/p/兰山_试点/check"
    assert "<td>小区</td><td>134</td><td>134</td>" in check.text
    assert "（自动识别）: 小区名称" in check.text  # the GBK header read as Chinese
    text = (ws / "兰山_试点" / "project.toml").read_text("utf-8")
    assert 'path = "communities/数据/小区.shp"' in text
    assert 'path = "facilities/高德POI.csv"' in text


def test_settings_are_checked_by_the_cli_rules_and_a_refused_one_leaves_the_file(tmp_path):
    from spatial.config.project import load_project

    ws = tmp_path / "ws"
    client = _client(ws)
    client.post("/demo")
    path = ws / "demo" / "project.toml"
    before = path.read_text("utf-8")
    form = {
        "basket": ["elderly_daycare", "market"],
        "radius_market": "abc",
        "old_cutoff": "2005-12-31",
        "priority_cutoff": "2000-12-31",
        "basemap": "osm",
    }
    for key, bad, says in [
        ("radius_market", "abc", "radius.market = &#39;abc&#39; 不允许"),
        ("radius_market", "-5", "radius.market = -5 不允许"),
        ("old_cutoff", "2005-13-40", "old_cutoff = &#39;2005-13-40&#39; 不是日期"),
    ]:
        refused = client.post("/p/demo/settings", data={**form, key: bad})
        assert refused.status_code == 400 and says in refused.text
        assert path.read_text("utf-8") == before  # the refused edit was undone
        form["radius_market"] = "400"
    saved = client.post("/p/demo/settings", data=form)
    assert saved.status_code == 200 and "已保存到 project.toml" in saved.text
    project = load_project(path)
    assert project.coverage.radius == {"market": 400}
    assert project.coverage.basket == ["elderly_daycare", "market"]
    assert project.render.basemap == "osm"
    assert "# Demo project: a SYNTHETIC" in path.read_text("utf-8")  # comments kept
    again = client.get("/p/demo/settings").text
    assert 'name="radius_market" value="400"' in again
    assert '<option value="osm" selected>' in again


def test_english_switch_and_a_project_made_by_hand_opens(tmp_path, run_cli):
    ws = tmp_path / "ws"
    assert run_cli("demo", str(ws / "by hand"))[0] == 0
    client = _client(ws)
    home = client.get("/lang/en?next=/")
    assert "Open a project" in home.text and "by hand" in home.text
    check = client.get("/p/by hand/check")
    assert "<th>rows read</th>" in check.text and "(detected): 小区名称" in check.text
    assert client.get("/lang/zh?next=//evil.example").url.path == "/"
    assert client.get("/p/..%2F..%2Fetc/check").status_code == 404
    missing = client.get("/p/nothere/check")
    assert missing.status_code == 404 and "工作区中没有这个项目（nothere）" in missing.text


def test_help_loads_no_web_library():
    import subprocess
    import sys

    code = (
        "import sys\nfrom spatial.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'starlette', 'uvicorn', 'jinja2', 'multipart', 'tomlkit', 'anyio'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lifecircle_serve_binds_loopback_prints_the_token_url_and_guards(tmp_path):
    import os
    import re
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    from http.cookiejar import CookieJar

    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = ["serve", "--no-browser", "--port", str(port), "--workspace", str(tmp_path / "ws")]
    proc = subprocess.Popen(
        [sys.executable, "-m", "spatial", *args], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line).group()
        assert len(url.split("token=")[1]) >= 40  # token_urlsafe(32)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        for _ in range(100):  # until it listens
            try:
                page = opener.open(url, timeout=5)
                break
            except urllib.error.URLError:
                import time

                time.sleep(0.1)
        assert page.status == 200 and "打开已有项目" in page.read().decode("utf-8")
        assert opener.open(f"http://127.0.0.1:{port}/", timeout=5).status == 200  # the cookie
        for request in (
            urllib.request.Request(f"http://127.0.0.1:{port}/"),  # no token, no cookie
            urllib.request.Request(url, headers={"Host": f"rebind.example:{port}"}),
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 403
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_on_a_taken_port_is_one_line_and_exit_2(tmp_path, run_cli):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli("serve", "--no-browser", "--port", str(port))
    assert code == 2 and f"端口 {port} 不可用" in err and len(err.strip().splitlines()) == 1


def test_an_oversized_body_without_a_length_is_stopped_while_read(tmp_path):
    ws = tmp_path / "ws"
    client = _client(ws, Limits(upload_mb=0.01))
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="communities"; '
        'filename="c.geojson"\r\nContent-Type: application/json\r\n\r\n'
    ).encode()

    def chunks():
        yield head
        for _ in range(40):  # 40 kB against a 10 kB bound, with no Content-Length
            yield b" " * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    done = client.post(
        "/new",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert done.status_code == 413 and "0.01" in done.text
    assert not ws.exists() or [p for p in ws.rglob("*") if p.is_file()] == []


def test_one_name_twice_in_a_layer_is_refused_not_overwritten(tmp_path):
    ws = tmp_path / "ws"
    client = _client(ws)
    data = _zip({"c.geojson": b"{}"})
    files = [
        ("communities", ("c.geojson", b'{"a": 1}', "application/json")),
        ("communities", ("c.zip", data, "application/zip")),
    ]
    done = _upload(client, files)
    assert done.status_code == 400 and "c.geojson: 同一个文件名上传了两次" in done.text
    assert [p for p in ws.rglob("*") if p.is_file()] == []


def test_a_run_refused_by_the_pipeline_shows_its_one_line_never_a_traceback(tmp_path, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    ws = tmp_path / "ws"
    client = _client(ws)
    client.post("/demo")
    form = {"old_cutoff": "2005-12-31", "priority_cutoff": "2000-12-31", "basemap": "tianditu"}
    form["basket"] = ["elderly_daycare", "nursing_home", "nursery", "kindergarten"]
    assert client.post("/p/demo/settings", data=form).status_code == 200
    client.post("/p/demo/run")
    ended = _wait(client, "demo")
    line = ended.text.split('<p class="error">')[1].split("</p>")[0]
    assert line.startswith("运行失败：") and "project.toml" in line and "天地图" in line
    assert "Traceback" not in ended.text and not (ws / "demo" / "maps").exists()
