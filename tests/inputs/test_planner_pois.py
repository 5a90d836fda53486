"""A planner's own data (issue 22): Shapefile headers cut to 10 bytes, Gaode POIs typed
generically whose names say what they are, basket categories with no facility at all, aliases in
the project file, and a Chinese font installed after matplotlib built its cache."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import pytest
import shapely
from openpyxl import load_workbook
from pypdf import PdfReader

from spatial.config.project import load_project
from spatial.config.standards import load_standards
from spatial.inputs.dbf_names import whole_names
from spatial.inputs.facility_names import category_by_name, is_generic, load_name_rules
from spatial.inputs.parse import cut_header_roles, header_key, maybe_cut
from spatial.text import printing as printtext
from spatial.workflow.pipeline import load_inputs

from ..conftest import file_digest, small_communities, small_facilities_csv
from ..planner_data import PLANNER_POIS, write_planner_communities_and_pois

# --- headers a Shapefile cut to 10 bytes -------------------------------------------------------


def test_a_gbk_shapefile_without_cpg_cuts_the_headers_and_they_are_still_found(tmp_path):
    project = load_project(write_planner_communities_and_pois(tmp_path))
    layers = load_inputs(project).layers
    columns = layers.reports[0].columns
    # what GDAL wrote: 10 GBK bytes of each header, cut before a character that did not fit
    assert columns["households"] == "总户数（户"
    assert columns["built_year"] == "建成年代（"
    assert columns["older"] == "60岁及以上"
    comm = layers.communities
    assert comm["households"].tolist() == [200, 250, 300, 350]
    assert comm["older"].tolist() == [60, 70, 80, 90]
    assert comm["built_year_min"].tolist() == [1988, 1995, 1990, 2001]  # 90年代 → 1990–1999
    assert comm["built_year_max"].tolist() == [1988, 1995, 1999, 2001]
    assert comm["name"].tolist() == ["甸柳1区", "甸柳2区", "甸柳3区", "甸柳4区"]


def test_a_utf8_shapefile_whose_names_gdal_cut_in_half_is_read(tmp_path):
    """GDAL cuts a UTF-8 name at the 10th byte, inside a character: pyogrio cannot read such a
    file at all; it is read from a copy whose names lose the half character."""
    frame = small_communities().rename(
        columns={"户数": "总户数（户）", "建成年代": "建成年代（年）"}
    )
    frame["60岁及以上人口"] = [1, 2, 3, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        frame.to_file(tmp_path / "c.shp", engine="pyogrio", encoding="utf-8")
    dbf = (tmp_path / "c.dbf").read_bytes()
    assert b"\xe6\x80\xbb\xe6\x88\xb7\xe6\x95\xb0\xef\x00" in dbf[:200]  # 总户数 + 1 byte of （
    with pytest.raises(UnicodeDecodeError):
        gpd.read_file(tmp_path / "c.shp")
    digest = file_digest(tmp_path / "c.dbf")
    (tmp_path / "p.toml").write_text('[communities]\npath = "c.shp"\n', encoding="utf-8")
    layers = load_inputs(load_project(tmp_path / "p.toml")).layers
    columns = layers.reports[0].columns
    assert (columns["households"], columns["built_year"], columns["older"]) == (
        "总户数", "建成年", "60岁及",
    )  # fmt: skip
    assert layers.communities["households"].tolist() == [100, 110, 120, 130]
    assert layers.communities["older"].tolist() == [1, 2, 3, 4]
    assert file_digest(tmp_path / "c.dbf") == digest  # the planner's file is untouched


def test_a_field_name_is_mended_only_by_its_half_character():
    header = bytearray(b"\0" * 32)
    for name in ("总户数（".encode()[:10], b"ABC", "60岁及以上".encode("gbk")):
        header += name.ljust(11, b"\0") + b"N" + b"\0" * 20
    header += b"\x0d"
    mended, count = whole_names(bytes(header), "utf-8")
    names = [mended[s : s + 11].split(b"\0")[0] for s in range(32, 32 * 4, 32)]
    assert count == 1  # a name in another encoding is not cut to what happens to decode
    assert names == ["总户数".encode(), b"ABC", "60岁及以上".encode("gbk")]
    assert whole_names(bytes(header), "gb18030")[1] == 0  # every byte sequence is GB18030


def test_header_keys_drop_a_unit_cut_in_half():
    assert header_key("总户数（户") == header_key("总户数（户）") == "总户数"
    assert header_key("建成年代（") == "建成年代"
    assert header_key("建筑面积(m") == "建筑面积"
    assert header_key("总户数\ufffd") == "总户数"  # a character cut in half by a .dbf writer


def test_only_headers_that_fill_ten_bytes_are_read_as_cut():
    assert maybe_cut("60岁及以上") and maybe_cut("num_househ") and maybe_cut("60岁及")
    assert not maybe_cut("人口") and not maybe_cut("小区名称")
    aliases = {"population": ["人口数", "常住人口"], "older": ["60岁及以上人口"]}
    assert cut_header_roles(["人口", "60岁及以上"], aliases, {}) == {"older": "60岁及以上"}
    # a cut header that begins the names of two roles is left alone, not guessed
    twins = {"a": ["abcdefghij_one"], "b": ["abcdefghij_two"]}
    assert cut_header_roles(["abcdefghij"], twins, {}) == {}
    assert cut_header_roles(["abcdefghij"], twins, {"b": "x"}) == {"a": "abcdefghij"}


# --- names decide when the type says nothing ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("历下区颐养院", "nursing_home"),
        ("泉城老年公寓", "nursing_home"),
        ("甸柳社区日间照料中心", "elderly_daycare"),
        ("燕子山社区托老所", "elderly_daycare"),
        ("泉城路街道社区卫生服务中心", "health_center"),
        ("舜玉社区卫生服务站", "health_station"),
        ("贝贝托育中心", "nursery"),
        ("文化东路农贸市场", "market"),
        # false friends
        ("历下区老年大学", ""),
        ("阳光小学生托管中心", ""),
        ("爱宠宠物诊所", ""),
        ("济南市儿童福利院", ""),
        ("老年人书画协会", ""),
        ("金宝贝早教托育", ""),  # 早教 rules 托育 out
        ("", ""),
    ],
)
def test_a_name_says_its_category_both_ways(name, category):
    standards = load_standards()
    rules = load_name_rules()
    assert category_by_name(name, rules, standards.categories, {}) == category


def test_two_categories_tied_on_their_longest_word_decide_nothing():
    standards = load_standards()
    rules = load_name_rules()
    # 托老所 (3) and 托儿所 (3): which one is it?
    assert category_by_name("托老所托儿所", rules, standards.categories, {}) == ""
    # the longer word wins: 社区卫生服务中心 (8) over 卫生服务站 (5)
    assert category_by_name("社区卫生服务中心卫生服务站", rules, standards.categories, {}) == (
        "health_center"
    )


def test_generic_types_and_specific_ones():
    rules = load_name_rules()
    for generic in ("生活服务;生活服务场所;生活服务场所", "医疗保健服务;医疗保健服务场所;医疗保健服务场所",
                    "政府机构及社会团体;社会团体;社会团体", "", "070000", "130400", "医疗"):  # fmt: skip
        assert is_generic(generic, rules), generic
    for specific in (
        "餐饮服务;中餐厅;中餐厅",
        "050100",
        "银行",
        "生活服务场所|餐饮服务;快餐厅;快餐厅",
    ):
        assert not is_generic(specific, rules), specific


def test_planner_pois_are_matched_by_name_and_the_rest_listed_by_name(tmp_path):
    result = load_inputs(load_project(write_planner_communities_and_pois(tmp_path)))
    fac = result.layers.facilities
    expected = {name: cat for name, _, _, cat, *_ in PLANNER_POIS if cat}
    assert dict(zip(fac["name"], fac["category"], strict=True)) == expected
    by = dict(zip(fac["name"], fac["matched_by"], strict=True))
    assert by["历下区颐养院"] == "name" and by["明湖幼儿园"] == "type"  # kept in the GeoPackage
    codes = {p.code: p for p in result.layers.problems}
    by_name = codes["facilities_by_name"]
    assert by_name.count == 6 and "历下区颐养院" in by_name.sample
    assert "养老院2处" in by_name.message("zh") and "托儿所1处" in by_name.message("zh")
    left = codes["facilities_generic_unmatched"]
    assert set(left.sample) == {"历下区老年大学", "阳光小学生托管中心", "老年人书画协会"}
    unknown = codes["unknown_categories"]  # specific types win over the name 养老院食堂快餐
    assert set(unknown.sample) == {"养老院食堂快餐", "鲁菜馆"}
    dropped = result.layers.dropped_facilities
    assert set(dropped["name"]) == {name for name, _, _, cat, *_ in PLANNER_POIS if not cat}
    assert dict(zip(dropped["name"], dropped["row"], strict=True))["鲁菜馆"] == 14  # file row
    empty = codes["basket_category_empty"]
    assert list(empty.sample) == ["health_station", "market"]
    assert "社区卫生服务站、菜市场或生鲜超市" in empty.message("zh")


@pytest.mark.slow
def test_check_and_run_say_it_everywhere(tmp_path, run_cli):
    project = write_planner_communities_and_pois(tmp_path / "data")
    code, out, err = run_cli("check", "--config", project)
    assert code == 0, err
    assert "按名称归入标准类别" in out and "历下区颐养院" in out
    assert "阳光小学生托管中心" in out and "鲁菜馆" in out
    assert "8类设施中有2类在数据中没有任何设施：社区卫生服务站、菜市场或生鲜超市" in out
    assert "households ← 总户数（户" in out and "older ← 60岁及以上" in out
    out_dir = tmp_path / "out"
    code, out, err = run_cli("run", "--config", project, "--out", out_dir, "--basemap", "none")
    assert code == 0, err
    note = out.index("8类设施中有2类在数据中没有任何设施（社区卫生服务站、菜市场或生鲜超市）")
    assert note < out.index("现状全覆盖户数占比0.0%")  # the reason comes before the 0 %
    summary = json.loads((out_dir / "summary.json").read_text("utf-8"))
    assert summary["coverage"]["basket_without_facilities"] == ["health_station", "market"]
    assert "社区卫生服务站" in summary["headline_notes"][0]
    assert {w["code"] for w in summary["warnings"]} >= {
        "facilities_by_name", "facilities_generic_unmatched", "unknown_categories",
        "basket_category_empty",
    }  # fmt: skip
    assert {d["name"] for d in summary["facilities_dropped"]} == {
        "历下区老年大学", "阳光小学生托管中心", "老年人书画协会", "养老院食堂快餐", "鲁菜馆",
    }  # fmt: skip
    book = load_workbook(out_dir / "ledger.xlsx")
    rows = [[c.value for c in r] for r in book["未计入的设施"].iter_rows()]
    assert rows[0] == ["行号", "名称", "类型（原文）", "原因"] and len(rows) == 6
    assert [14, "鲁菜馆", "餐饮服务;中餐厅;中餐厅", "类型不是标准类别"] in rows
    summary_rows = [[c.value for c in r] for r in book["汇总"].iter_rows()]
    assert summary_rows[2][0] == "数据中没有设施的类别" and "社区卫生服务站" in summary_rows[2][1]
    problems = " ".join(str(c.value) for r in book["数据问题"].iter_rows() for c in r)
    assert "历下区颐养院" in problems and "阳光小学生托管中心" in problems
    html = (out_dir / "overview.html").read_text("utf-8")
    assert "8类设施中有2类在数据中没有任何设施" in html
    clinics = (out_dir / "clinics.html").read_text("utf-8")
    assert "2类设施中有1类在数据中没有任何设施（社区卫生服务站）" in clinics
    assert "没有任何设施" not in (out_dir / "elderly.html").read_text("utf-8")
    page = PdfReader(out_dir / "overview.pdf").pages[0].extract_text()
    assert "数据中没有设施：社区卫生服务站、菜市场或生鲜超市（2/8类" in page.replace("\n", "")


def test_the_headline_in_english_names_the_empty_categories(tmp_path, run_cli):
    project = write_planner_communities_and_pois(tmp_path / "data")
    out_dir = tmp_path / "out"
    code, out, err = run_cli("coverage", "--config", project, "--out", out_dir, "--lang", "en")
    assert code == 0, err
    assert "2 of 8 categories have no facilities in the data" in out
    assert "Community health station, Fresh market" in out


def test_a_full_basket_has_no_empty_category_note(tmp_path, run_cli):
    """The note is not a constant: with one facility of each basket category there is none."""
    from ..conftest import JINAN

    small_communities().to_file(tmp_path / "communities.gpkg")
    kinds = [
        "托老所",
        "养老院",
        "托儿所",
        "幼儿园",
        "卫生服务站",
        "卫生服务中心",
        "菜市场",
        "便利店",
    ]
    rows = [(f"设施{i}", k, JINAN[0] + 0.0003 * i, JINAN[1]) for i, k in enumerate(kinds)]
    small_facilities_csv(tmp_path / "f.csv", rows)
    (tmp_path / "p.toml").write_text(
        '[communities]\npath = "communities.gpkg"\n[facilities]\npath = "f.csv"\n'
        'coords = "gcj02"\n',
        encoding="utf-8",
    )
    code, out, err = run_cli("coverage", "--config", tmp_path / "p.toml", "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert summary["coverage"]["basket_without_facilities"] == []
    assert summary["headline_notes"] == [] and "没有任何设施" not in out


# --- aliases in the project file ---------------------------------------------------------------


def _alias_project(folder, aliases: str = ""):
    from ..conftest import JINAN

    small_communities().to_file(folder / "communities.gpkg")
    rows = [
        ("甸柳驿站", "社区服务;社区养老驿站", *JINAN),
        ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1]),
        ("舜耕书画协会", "生活服务;生活服务场所;生活服务场所", JINAN[0] + 0.001, JINAN[1]),
    ]
    small_facilities_csv(folder / "f.csv", rows)
    path = folder / "p.toml"
    path.write_text(
        '[communities]\npath = "communities.gpkg"\n[facilities]\npath = "f.csv"\n'
        f'coords = "gcj02"\n{aliases}',
        encoding="utf-8",
    )
    return path


def test_project_aliases_name_category_texts_and_name_keywords(tmp_path):
    plain = load_inputs(load_project(_alias_project(tmp_path)))
    assert list(plain.layers.facilities["name"]) == ["和平幼儿园"]
    hint = {p.code: p for p in plain.layers.problems}["unknown_categories"].message("zh")
    assert "[facilities]" in hint and "aliases" in hint and "data/standards" not in hint
    project = _alias_project(
        tmp_path, 'aliases = { "社区养老驿站" = "托老所", "书画协会" = "culture" }'
    )
    fac = load_inputs(load_project(project)).layers.facilities
    assert dict(zip(fac["name"], fac["category"], strict=True)) == {
        "甸柳驿站": "elderly_daycare",  # its type text, by the alias
        "和平幼儿园": "kindergarten",
        "舜耕书画协会": "culture",  # a generic type: its name, by the alias as a keyword
    }


def test_an_alias_to_an_unknown_category_is_a_config_error(tmp_path, run_cli):
    project = _alias_project(tmp_path, 'aliases = { "社区养老驿站" = "elderly_care" }')
    code, _, err = run_cli("check", "--config", project, "--lang", "en")
    assert code == 2 and "[facilities] aliases" in err and "elderly_daycare" in err
    project.write_text(project.read_text("utf-8").replace("aliases = {", "aliases = 3 #"), "utf-8")
    code, _, err = run_cli("check", "--config", project, "--lang", "en")
    assert code == 2 and "[facilities] aliases must be a table" in err


# --- a font installed after matplotlib's cache was built ----------------------------------------


def test_a_font_missing_from_a_stale_matplotlib_cache_is_found(monkeypatch):
    from matplotlib import font_manager

    manager = font_manager.fontManager
    family = printtext.cjk_font()  # the machine has one (fonts-wqy-microhei)
    path = printtext.font_file(family)[0]
    stale = [f for f in manager.ttflist if f.fname != path]
    assert len(stale) < len(manager.ttflist)
    monkeypatch.setattr(manager, "ttflist", stale)  # the cache as built before apt-get install
    monkeypatch.setattr(printtext, "_SCANNED", [])
    assert printtext.cjk_font() == family
    assert any(f.name == family for f in manager.ttflist)


def test_no_font_at_all_says_how_to_refresh_the_cache(monkeypatch):
    from spatial.core.errors import DependencyError

    monkeypatch.setattr(printtext, "CJK_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(printtext, "_SCANNED", [])
    with pytest.raises(DependencyError) as caught:
        printtext.cjk_font()
    import matplotlib

    assert matplotlib.get_cachedir() in caught.value.message("en")
    assert "fonts-wqy-microhei" in caught.value.message("zh")


def test_shapely_is_used_for_the_planner_layer(tmp_path):
    """The builder writes polygons where it says (a guard on the data the tests above use)."""
    write_planner_communities_and_pois(tmp_path)
    comm = gpd.read_file(tmp_path / "communities.shp", encoding="gb18030")
    assert comm.crs.to_epsg() == 4548 and not (tmp_path / "communities.cpg").exists()
    assert shapely.area(comm.geometry.values).round().tolist() == [6400.0] * 4
