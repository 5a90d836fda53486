"""An English run (``--lang en``) reads in English wherever the planner reads it — summary.json,
the ledger's cells, the map cards and tooltips, the print pack — except for the values the data
gives (community, facility, parcel-kind and subdistrict names, build years as written, column
headers of the input files, the project's name) and the standards file's Chinese citations and
map glyphs. The same analysis written in Chinese still has the Chinese texts; the policy years in
the texts come from ``[policy]``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from spatial.config.project import load_project
from spatial.core import settings
from spatial.core.messages import labels, render, render_frame
from spatial.workflow.pipeline import analyse, load_inputs, write_outputs

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
STAGES = ("coverage", "bundle", "sites", "map")


@pytest.fixture(scope="module")
def written(demo_analysis, tmp_path_factory):
    """One analysis of the demo (project language zh), written in English and in Chinese."""
    result = demo_analysis(STAGES, basemap=None)
    base = tmp_path_factory.mktemp("english_run")
    outs = {}
    for lang in ("en", "zh"):
        outs[lang] = base / lang
        write_outputs(result, outs[lang], STAGES, lang)
    return result, outs


def _data_strings(result) -> list[str]:
    """Every text the data gives (longest first): cells and headers of the input layers, the
    input files' column names, the project's name, the standards' citations and map glyphs."""
    found: set[str] = {result.project.name}
    layers = result.layers
    for frame in (layers.communities, layers.facilities, layers.parcels):
        found |= {str(c) for c in frame.columns}
        for col in frame.columns:
            if frame[col].dtype == object or isinstance(frame[col].dtype, pd.StringDtype):
                found |= {v for v in frame[col].dropna() if isinstance(v, str)}
    for report in result.summary["inputs"]:
        found |= {str(v) for v in report.get("columns", {}).values()}
    found |= {p.sample[k] for p in layers.problems for k in range(len(p.sample))}
    if layers.dropped_facilities is not None:  # the facility rows left out, by name and type
        found |= set(layers.dropped_facilities["name"]) | set(layers.dropped_facilities["category"])
    std = result.standards
    found |= {std.source} | {c.icon for c in std.categories.values() if getattr(c, "icon", "")}
    cap = tomllib.loads((settings.DATA_DIR / "standards" / "capacity.toml").read_text("utf-8"))

    def sources(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, str) and "source" in k:
                    found.add(v)
                sources(v)

    sources(cap)
    for raw in layers.communities["built_raw"].dropna().astype(str):  # "90年代", "1985年"
        found.add(raw)
    return sorted((s for s in found if s and CJK.search(s)), key=len, reverse=True)


def _cjk_left(texts, data: list[str]) -> set[str]:
    """The texts that still hold CJK characters once every data value is taken out."""
    left = set()
    for t in texts:
        if not isinstance(t, str) or not CJK.search(t):
            continue
        rest = t
        for d in data:
            if d in rest:
                rest = rest.replace(d, "")
        if CJK.search(rest):
            left.add(t)
    return left


def _json_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _json_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _json_strings(v)]
    return [node] if isinstance(node, str) else []


def _ledger_cells(path: Path) -> list[str]:
    book = load_workbook(path, read_only=True)
    return [
        c for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c
    ] + [ws.title for ws in book.worksheets]


def _html_texts(folder: Path) -> list[str]:
    """The HTML maps' text between tags and in attribute/JSON strings (\\u escapes decoded)."""
    out = []
    for f in sorted(folder.glob("*.html")):
        t = f.read_text("utf-8")
        t = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), t)
        out += re.split(r"<[^>]*>|[\"'\\]", t)
    return out


def test_english_run_has_no_chinese_text_but_the_data(written):
    result, outs = written
    data = _data_strings(result)
    out = outs["en"]
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert _cjk_left(_json_strings(summary), data) == set()
    assert _cjk_left(_ledger_cells(out / "ledger.xlsx"), data) == set()
    assert _cjk_left(_html_texts(out), data) == set()
    pdf = PdfReader(out / "overview.pdf")
    assert _cjk_left([p.extract_text() for p in pdf.pages], data) == set()
    # the check can fail: a Chinese text of the analysis is found in the Chinese run's files
    zh = outs["zh"]
    zh_summary = json.loads((zh / "summary.json").read_text("utf-8"))
    assert _cjk_left(_json_strings(zh_summary), data)
    assert _cjk_left(_html_texts(zh), data)


def test_english_run_texts_are_the_catalogue_texts(written):
    result, outs = written
    en = json.loads((outs["en"] / "summary.json").read_text("utf-8"))
    zh = json.loads((outs["zh"] / "summary.json").read_text("utf-8"))
    top_en, top_zh = en["priority"]["top_communities"][0], zh["priority"]["top_communities"][0]
    assert top_en["cid"] == top_zh["cid"]
    assert "score" in top_en["reasons"] and "得分" in top_zh["reasons"]
    assert "2000年底前建成（优先）" in top_zh["reasons"]
    assert "built by end 2000 (priority)" in top_en["reasons"]
    assert zh["priority"]["top_bundles"][0]["description"].startswith("B01片区")
    assert en["priority"]["top_bundles"][0]["description"].startswith("B01: ")
    units_en = {k: b["unit"] for k, b in en["sites"]["sizing"]["by_category"].items()}
    units_zh = {k: b["unit"] for k, b in zh["sites"]["sizing"]["by_category"].items()}
    assert units_en["nursing_home"] == "beds" and units_zh["nursing_home"] == "张床位"
    rows = {}
    for lang in outs:
        ledger = labels(lang)["ledger"]
        sheet = load_workbook(outs[lang] / "ledger.xlsx", read_only=True)[
            ledger["sheets"]["programmes"]
        ]
        rows[lang] = list(sheet.iter_rows(values_only=True))
    rows_en, rows_zh = rows["en"], rows["zh"]
    col_en = rows_en[0].index(labels("en")["ledger"]["columns"]["too_small_for"])
    col_zh = rows_zh[0].index(labels("zh")["ledger"]["columns"]["too_small_for"])
    small = [
        (a[col_en], b[col_zh]) for a, b in zip(rows_en[1:], rows_zh[1:], strict=False) if a[col_en]
    ]
    assert small and all("、" in z or "," not in e for e, z in small)
    assert any("Nursing home" in e and "养老院" in z for e, z in small)


def test_frames_keep_texts_not_yet_in_a_language(written):
    """The analysis frames hold catalogue texts; the GeoPackage gets the project's language."""
    result, outs = written
    comm = result.communities
    reason = comm.loc[comm["tier"] == "priority", "eligibility_reason"].iloc[0]
    assert render(reason, "zh").endswith("不晚于2000-12-31，优先改造")
    assert render(reason, "en").endswith("by 2000-12-31: priority renovation")
    sites = render_frame(result.siting.sites, "en")
    assert set(sites["category_name"]) <= {c.name_en for c in result.standards.categories.values()}
    gpkg = __import__("geopandas").read_file(outs["en"] / "lifecircle.gpkg", layer="communities")
    assert gpkg["eligibility_reason"].str.contains("改造|核实|晚于|征收|之间").all()


def test_priority_cutoff_1995_names_1995_in_every_language():
    project = load_project()
    policy = dataclasses.replace(project.policy, priority_cutoff=dt.date(1995, 12, 31))
    project = dataclasses.replace(project, policy=policy)
    result = analyse(load_inputs(project), ("coverage", "bundle"))
    for lang in ("zh", "en"):
        reasons = " ".join(render_frame(result.bundling.priority, lang)["reasons"])
        bundles = " ".join(render_frame(result.bundling.bundles, lang)["reasons"])
        assert "1995" in reasons and "2000" not in reasons + bundles
        elig = " ".join(render_frame(result.communities, lang)["eligibility_reason"])
        assert "1995-12-31" in elig and "2000-12-31" not in elig
