"""The whole run's speed work keeps its guarantees: the bundle sheets' workers, started before the
other outputs are written, join the PDF in order, and a failure while they draw leaves the output
folder as it was, with no worker file or staging folder behind."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from spatial import ledger, printmap, printpack
from spatial.config import load_project
from spatial.pipeline import analyse, load_inputs, write_outputs

from .conftest import file_digest

STAGES = ("coverage", "bundle", "sites", "map")


@pytest.fixture(scope="module")
def demo():
    project = load_project(None)
    project.render.basemap = "none"
    return analyse(load_inputs(project), STAGES)


def _left_over(root) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.startswith((".lifecircle-staging-", ".bundles-"))
    )


def test_early_started_sheets_join_the_pdf_and_a_failure_leaves_the_folder_as_it_was(
    demo, tmp_path, monkeypatch
):
    monkeypatch.setattr(printpack, "PARALLEL_FROM", 2)  # the demo's 19 bundles: forked workers
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
