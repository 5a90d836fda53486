"""What a planner sees in the terminal and writes in the project file: language, inert text,
warnings, the template's keys, category aliases, the demo folder and the policy's years."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import zipfile
from dataclasses import MISSING, fields
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pytest

from spatial.config import project as config
from spatial.config.project import PolicyConfig, Project, load_project
from spatial.config.schema import GATE_SETTINGS
from spatial.config.standards import load_column_aliases, load_standards
from spatial.core import settings
from spatial.core.errors import ConfigError
from spatial.core.messages import policy_fields, text, tier_label
from spatial.core.problems import problem

from ..conftest import file_digest

TEMPLATE = Path(str(resources.files("spatial.config").joinpath("template.toml")))
PAYLOAD = "x[/]y [bold red]z :smile:"


def _set(project: Path, section: str, lines: str) -> None:
    """Append ``lines`` to ``[section]`` of a project file (the section is added when absent)."""
    text_ = project.read_text("utf-8")
    head = f"[{section}]\n"
    text_ = text_.replace(head, head + lines) if head in text_ else text_ + head + lines
    project.write_text(text_, "utf-8")


# --- the project file -------------------------------------------------------------------------

_OPTIONAL = re.compile(r"^#\s?(\[[a-z]+\]|[a-z_]+\s*=)")


def _uncommented(template: str) -> str:
    """The template with every optional ``# key = …`` / ``# [section]`` line switched on."""
    return "\n".join(
        line.lstrip("#").lstrip() if _OPTIONAL.match(line) else line
        for line in template.splitlines()
    )


def _accepted_keys() -> dict[str, set[str]]:
    """The keys the project file accepts, from the configuration's own definitions."""
    roles = load_column_aliases()
    layer_keys = {f.name for f in fields(config.LayerConfig)} - {"columns", "frame", "aliases"}
    keys = {
        "project": {
            f.name
            for f in fields(Project)
            if f.default is not MISSING
            and isinstance(f.default, str | float)  # name, lang, crs and the input limits
            and f.name != "standards_path"
        },
        "standards": {"path"},
    }
    for section in ("communities", "facilities", "parcels", "subdistricts"):
        keys[section] = layer_keys | set(roles[section])
    keys["gates"] = layer_keys | set(roles["gates"]) | set(GATE_SETTINGS)
    keys["facilities"].add("aliases")  # only facilities have category aliases
    for section, (_, cls) in config._SECTIONS.items():
        keys[section] = {f.name for f in fields(cls)}
    return keys


def test_template_documents_every_key_the_project_file_accepts():
    data = tomllib.loads(_uncommented(TEMPLATE.read_text("utf-8")))
    documented = {section: set(table) for section, table in data.items()}
    assert documented == _accepted_keys()


def test_uncommented_template_is_a_valid_project(tmp_path):
    path = tmp_path / "project.toml"
    path.write_text(_uncommented(TEMPLATE.read_text("utf-8")), "utf-8")
    project = load_project(path)
    assert project.priority.tier == 40.0 and project.bundling.min_members == 2
    std = load_standards(project)  # every category the template names resolves
    assert std.basket == ["elderly_daycare", "nursing_home", "nursery", "kindergarten",
                          "health_station", "health_center", "market", "convenience"]  # fmt: skip
    assert std.categories["market"].radius_m == 600
    assert "library" in std.categories
    assert project.siting.min_area == {"kindergarten": 3000}


def test_category_aliases_wherever_a_category_is_named(small_project, run_cli, tmp_path):
    _set(small_project, "coverage",
         'basket = ["养老院", "幼儿园"]\nradius = { "幼儿园" = 400 }\ndrop = ["初中"]\n')  # fmt: skip
    _set(small_project, "siting", 'min_area = { "托老所" = 300 }\n')
    code, _, err = run_cli("coverage", "--config", small_project, "--out", tmp_path / "o")
    assert code == 0, err
    cov = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))["coverage"]
    assert cov["basket"] == ["nursing_home", "kindergarten"]
    assert cov["radii_m"]["kindergarten"] == 400
    assert "middle_school" not in cov["radii_m"]
    project = load_project(small_project)
    load_standards(project)
    assert project.siting.min_area == {"elderly_daycare": 300}


@pytest.mark.parametrize("section, line", [
    ("coverage", 'basket = ["养老院", "银行"]\n'), ("coverage", 'radius = { "银行" = 300 }\n'),
    ("coverage", 'drop = ["银行"]\n'), ("siting", 'min_area = { "银行" = 300 }\n'),
])  # fmt: skip
def test_unknown_category_name_is_a_config_error_listing_the_keys(
    small_project, run_cli, tmp_path, section, line
):
    _set(small_project, section, line)
    code, _, err = run_cli(
        "coverage", "--config", small_project, "--out", tmp_path / "o", "--lang", "en"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "unknown category '银行'" in err and "project.toml" in err
    assert "elderly_daycare" in err and "kindergarten" in err
    with pytest.raises(ConfigError, match="银行"):
        load_standards(load_project(small_project))


# --- the terminal -----------------------------------------------------------------------------


@pytest.mark.slow
def test_terminal_is_chinese_first_and_english_on_request(small_project, run_cli, tmp_path):
    code, out, err = run_cli("coverage", "--config", small_project, "--out", tmp_path / "zh")
    assert code == 0, err
    assert "小区4个" in out and "15分钟生活圈覆盖（8类设施，直线距离×绕行系数（无路网））" in out
    assert "已写出" in out and "households" not in out
    code, out, _ = run_cli("coverage", "--config", small_project, "--out", tmp_path / "en",
                           "--lang", "en")  # fmt: skip
    assert code == 0
    assert "4 communities" in out and "8-category basket" in out and "wrote:" in out
    share = json.loads((tmp_path / "en" / "summary.json").read_text("utf-8"))["coverage"]
    assert f"{share['full_coverage_households']:.1%} of households fully covered" in out


def test_error_frame_follows_the_language(small_project, run_cli):
    _set(small_project, "coverage", 'basket = ["x"]\n')
    _, _, err = run_cli("check", "--config", small_project)
    assert err.startswith("错误：") and "未知的设施类别 'x'" in err and "unknown" not in err
    _, _, err = run_cli("check", "--config", small_project, "--lang", "en")
    assert err.startswith("error: ") and "unknown category 'x'" in err
    _, _, err = run_cli("check", "--config", small_project, "--lang", "en")
    assert err.startswith("error: ")
    _set(small_project, "project", 'lang = "en"\n')
    _, _, err = run_cli("check", "--config", small_project)
    assert err.startswith("error: ")


def test_data_and_paths_are_printed_literally_never_as_markup(small_project, run_cli, tmp_path):
    folder = small_project.parent
    small_project.write_text(
        small_project.read_text("utf-8").replace('name = "测试"', f'name = "{PAYLOAD}"'), "utf-8"
    )
    csv = folder / "facilities.csv"
    csv.write_text(csv.read_text("utf-8") + f"名称x,{PAYLOAD},117.02,36.66\n", "utf-8")
    out_dir = tmp_path / "o[/]ut [bold red]x"
    code, out, err = run_cli("coverage", "--config", small_project, "--out", out_dir)
    assert code == 0, err
    assert f"{PAYLOAD}：小区4个" in out
    assert f"{out_dir / 'summary.json'}" in out
    code, out, err = run_cli("check", "--config", small_project)
    assert code == 0, err
    assert f"{PAYLOAD}：输入数据" in out
    assert f"{PAYLOAD}×1" in out  # the unknown category, as written
    assert "[coverage] add" in out  # the note's own text survives


def test_warnings_printed_by_run_and_check_the_same_way(small_project, run_cli, tmp_path,
                                                         monkeypatch):  # fmt: skip
    from spatial.workflow import pipeline

    found = problem("blank_households", "communities", ["C1", f"C2{PAYLOAD}"])
    record = {"code": "blank_households", "layer": "communities",
              "message": f"2 communities have blank households: C1、C2{PAYLOAD}",
              "count": 2, "sample": list(found.sample)}  # fmt: skip
    real_run, real_load = pipeline.run, pipeline.load_inputs

    def run(*args, **kwargs):
        result = real_run(*args, **kwargs)
        result.summary.setdefault("warnings", []).append(record)
        return result

    def load(*args, **kwargs):
        result = real_load(*args, **kwargs)
        result.layers.problems = [found]
        return result

    monkeypatch.setattr(pipeline, "run", run)
    monkeypatch.setattr(pipeline, "load_inputs", load)
    monkeypatch.setattr(type(found), "message", lambda self, lang: record["message"])
    code, out, err = run_cli("coverage", "--config", small_project, "--out", tmp_path / "o")
    assert code == 0, err
    line = f"  ! 小区：{record['message']}"
    assert "数据问题（" in out and line in out.splitlines()
    code, out, err = run_cli("check", "--config", small_project)
    assert code == 0, err
    # and check's own: the children aged 3–5 estimated from the census shares (issue 30)
    assert "数据问题（2项）" in out and line in out.splitlines()


# --- the demo folder and the policy's years ---------------------------------------------------


def test_demo_refuses_to_overwrite_and_is_not_a_file(run_cli, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "facilities.csv").write_text("mine", "utf-8")
    before = file_digest(folder / "facilities.csv")
    code, _, err = run_cli("demo", folder)
    assert code == 2 and "已存在" in err and "facilities.csv" in err
    assert file_digest(folder / "facilities.csv") == before
    assert sorted(p.name for p in folder.iterdir()) == ["facilities.csv"]
    (tmp_path / "f").write_text("x", "utf-8")
    code, _, err = run_cli("demo", tmp_path / "f", "--lang", "en")
    assert code == 2 and err.startswith("error: ") and "not a folder" in err


def test_policy_dates_in_labels():
    linyi = PolicyConfig(priority_cutoff=dt.date(1995, 12, 31))
    assert tier_label("zh", "priority", linyi) == "优先改造（1995年底前建成）"
    assert tier_label("zh", "standard", linyi) == "一般改造（2005年底前建成）"
    mid = PolicyConfig(priority_cutoff=dt.date(1995, 6, 30))
    assert tier_label("en", "priority", mid) == "Priority (built by 1995-06-30)"
    assert policy_fields("zh", mid)["priority_by"] == "1995年6月30日"
    assert text("zh", "bundle_priority_members", count=3, **policy_fields("zh", linyi)) == (
        "（其中1995年底前建成3个）"
    )


def _ledger_strings(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


@pytest.mark.slow
def test_demo_folder_runs_with_the_policy_years(run_cli, tmp_path, monkeypatch):
    """`demo DIR` then `run --config DIR`; Linyi's 1995 priority cut-off shows everywhere."""
    from spatial.workflow import pipeline

    monkeypatch.setattr(pipeline, "print_font", lambda *a: (None, None))  # no print pack here
    folder = tmp_path / "demo"
    code, out, err = run_cli("demo", folder)
    assert code == 0, err
    assert (folder / "project.toml").read_text("utf-8") == settings.DEMO_PROJECT.read_text("utf-8")
    project = folder / "project.toml"
    project.write_text(
        project.read_text("utf-8").replace('priority_cutoff = "2000-12-31"',
                                           'priority_cutoff = "1995-12-31"'), "utf-8")  # fmt: skip
    out_dir = tmp_path / "out"
    code, out, err = run_cli("run", "--config", folder, "--out", out_dir, "--basemap", "none")
    assert code == 0, err
    summary = json.loads((out_dir / "summary.json").read_text("utf-8"))
    assert summary["project"] == "兰山区老旧小区改造（演示数据）"
    sites = summary["sites"]
    assert sites["full_coverage_households_after"] > sites["full_coverage_households_before"]
    assert f"全覆盖户数占比{sites['full_coverage_households_after']:.1%}" in out
    assert f"（现状{sites['full_coverage_households_before']:.1%}）" in out
    priority = gpd.read_file(out_dir / "lifecircle.gpkg", layer="priority")
    bundles = gpd.read_file(out_dir / "lifecircle.gpkg", layer="bundles")
    reports = {
        "summary": (out_dir / "summary.json").read_text("utf-8"),
        "ledger": _ledger_strings(out_dir / "ledger.xlsx"),
        "maps": "".join(p.read_text("utf-8") for p in out_dir.glob("*.html")),
        "reasons": "".join(priority["reasons"]),
        "descriptions": "".join(bundles["description"]),
    }
    wrong = ["2000年底", "2000年前", "end 2000", "Pre-2001"]
    wrong += [json.dumps(w)[1:-1] for w in wrong]  # as escaped in JSON inside the maps
    for name, body in reports.items():
        assert not [w for w in wrong if w in body], name
    assert "1995年底前建成（优先）" in reports["reasons"]
    assert "其中1995年底前建成" in reports["descriptions"]
    assert "1995年底前建成" in reports["ledger"]


@pytest.mark.parametrize("value", ["[/]", "[bold red]x", "a\\", "a\\\\", "\\[b]", "[/bold]", ":smile:",
                                   "[link=file:///etc]x[/link]"])  # fmt: skip
def test_every_catalogue_field_enters_the_terminal_as_text(value, capsys):
    from spatial.cli import terminal

    terminal.say(terminal.new_console(), "en", "cli_layer", layer=value, path=Path(value))
    assert capsys.readouterr().out == f"{value} ({Path(value)})\n"
