"""The whole run's speed work keeps its guarantees: the outputs written side by side by forked
workers are the files a run in one process writes, the bundle sheets' parts join the PDF in
order, and a failure while the workers write leaves the output folder as it was, with no part
or staging folder behind."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from spatial.config.project import load_project
from spatial.core import settings
from spatial.outputs.ledger import write as ledger
from spatial.outputs.printing import pack as printmap
from spatial.workflow import write as outputs
from spatial.workflow.pipeline import analyse, load_inputs, write_outputs

from ..conftest import file_digest

STAGES = ("coverage", "bundle", "sites", "map")


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(STAGES)


def _left_over(root) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.startswith((".lifecircle-staging-", ".print-"))
    )


def test_sheets_in_parts_join_the_pdf_and_a_failure_leaves_the_folder_as_it_was(
    demo, tmp_path, monkeypatch
):
    monkeypatch.setattr(settings, "PARALLEL_FROM", 2)  # the demo: forked workers
    monkeypatch.setattr(outputs, "SHEETS_PER_PART", 5)  # the 19 bundles' sheets in four parts
    monkeypatch.setattr(printmap, "_groups", lambda result: [])  # the overview only, for speed
    out = tmp_path / "out"
    write_outputs(demo, out, STAGES, "en", strict_print=True)
    pages = PdfReader(out / "overview.pdf").pages
    ids = list(demo.bundling.bundles["bundle_id"])
    assert len(pages) == 1 + len(ids)
    for page, bid in zip(pages[1:], ids, strict=True):
        assert f"Bundle {bid}" in page.extract_text()
    assert _left_over(tmp_path) == []
    before = {p.name: file_digest(p) for p in out.iterdir()}

    def fail(*args, **kwargs):
        raise RuntimeError("disk gone while the sheets are drawn")

    monkeypatch.setattr(ledger, "write_ledger", fail)  # after the workers were started
    with pytest.raises(RuntimeError, match="disk gone"):
        write_outputs(demo, out, STAGES, "en", strict_print=True)
    assert {p.name: file_digest(p) for p in out.iterdir()} == before
    assert _left_over(tmp_path) == []


#: folium's element ids: a fresh uuid4 hex per element and run (``map_<hex>``, ``geo_json_<hex>_…``).
_ELEMENT_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _normalised(page: str) -> str:
    """``page`` with each of folium's random element ids replaced by its order of appearance."""
    ids: dict[str, int] = {}
    return _ELEMENT_ID.sub(lambda m: f"id{ids.setdefault(m.group(0), len(ids))}", page)


def test_side_by_side_outputs_are_the_files_of_a_run_in_one_process(demo, tmp_path, monkeypatch):
    alone = tmp_path / "alone"
    write_outputs(demo, alone, STAGES, "zh")  # 134 communities: written in this process
    monkeypatch.setattr(settings, "PARALLEL_FROM", 2)
    monkeypatch.setattr(outputs, "SHEETS_PER_PART", 7)  # three parts
    forked = tmp_path / "forked"
    write_outputs(demo, forked, STAGES, "zh")
    names = sorted(p.name for p in alone.iterdir())
    assert names == sorted(p.name for p in forked.iterdir())
    assert "overview.pdf" in names and "ledger.xlsx" in names and "overview.html" in names
    pages = [
        [p.extract_text() for p in PdfReader(d / "overview.pdf").pages] for d in (alone, forked)
    ]
    assert pages[0] == pages[1]
    books = [load_workbook(d / "ledger.xlsx", read_only=True) for d in (alone, forked)]
    assert books[0].sheetnames == books[1].sheetnames
    for name in books[0].sheetnames:
        rows = [list(b[name].iter_rows(values_only=True)) for b in books]
        assert rows[0] == rows[1], name
    pages = sorted(p.name for p in alone.glob("*.html"))
    assert pages == [
        "childcare.html",
        "clinics.html",
        "elderly.html",
        "markets.html",
        "overview.html",
    ]
    for name in pages:  # the same maps, but for folium's element ids
        texts = [_normalised((d / name).read_text("utf-8")) for d in (alone, forked)]
        assert texts[0] == texts[1], name
    summary = (forked / "summary.json").read_text("utf-8")
    assert all(f'"{k}"' in summary for k in ("map", "ledger", "print_map", "print_sheets"))


@pytest.mark.slow
def test_stages_side_by_side_give_the_run_of_one_process(monkeypatch):
    """Service areas and bundles in forked workers while the sites are chosen here: the same
    communities, bundles, priority list, service areas and summary as one process."""
    project = load_project(None)
    project.render.basemap = "none"
    alone = analyse(load_inputs(project), STAGES)
    monkeypatch.setattr(settings, "PARALLEL_FROM", 2)
    forked = analyse(load_inputs(project), STAGES)
    assert alone.communities.equals(forked.communities)
    assert alone.bundling.bundles.equals(forked.bundling.bundles)
    assert alone.bundling.priority.equals(forked.bundling.priority)
    assert alone.service_areas.geom_equals_exact(forked.service_areas.geometry, 0).all()
    assert alone.siting.sites.equals(forked.siting.sites)
    for run in (alone, forked):  # the clock's figures
        del run.summary["generated"]
        for method in ("greedy", "exact"):
            del run.summary["sites"][method]["seconds"]
    assert alone.summary == forked.summary
    assert {"service_areas", "bundle", "sites"} <= set(forked.timings)
