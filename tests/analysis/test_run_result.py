"""The typed run result: one communities frame, a frozen result per stage, the GeoPackage mapping,
and the ledger's texts in the message catalogue."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from spatial.analysis.result import GPKG_LAYERS, BundlingResult, SitingResult, gpkg_layers
from spatial.core import settings


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(("coverage", "bundle", "sites"), basemap=None)


def test_one_communities_frame_the_analysed_one(demo):
    assert demo.communities is demo.layers.communities
    comm = demo.communities
    assert {"tier", "market_m", "market_ok", "gaps", "bundle_id", "elderly_daycare_ratio"} <= set(
        comm
    )
    assert len(comm) == demo.summary["communities"] == 134


def test_stage_results_are_typed_and_frozen(demo):
    assert isinstance(demo.bundling, BundlingResult) and isinstance(demo.siting, SitingResult)
    assert list(demo.bundling.bundles["rank"]) == sorted(demo.bundling.bundles["rank"])
    assert len(demo.bundling.bundles) == demo.summary["bundles"]["count"] == 19
    assert len(demo.siting.sites) == demo.summary["sites"]["count"] == 53
    assert set(demo.siting.reach.columns) == {"pid", "cid", "distance_m"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo.siting.sites = None
    assert demo.capacity is not None and demo.capacity.settings.indicators


def test_gpkg_layers_in_order_and_only_for_stages_run(demo, demo_analysis):
    layers = gpkg_layers(demo)
    # every layer but the programme by year, which needs a [plan] section (the demo has none)
    assert tuple(layers) == tuple(n for n in GPKG_LAYERS if n != "plan")
    assert layers["communities"] is demo.communities
    assert layers["priority"] is demo.bundling.priority
    coverage_only = demo_analysis(("coverage",), basemap=None)
    assert coverage_only.bundling is None and coverage_only.siting is None
    names = tuple(gpkg_layers(coverage_only))
    assert names == ("communities", "service_areas", "facilities", "parcels")
    assert "bundle_id" not in coverage_only.communities


def test_coverage_result_has_named_fields_only(demo):
    from spatial.analysis.coverage.measure import compute_coverage

    project = demo.project
    cov = compute_coverage(
        demo.communities, demo.layers.facilities, demo.standards, project.coverage, None
    )
    with pytest.raises(TypeError):
        _communities, _categories = cov  # no tuple unpacking: read .communities, .categories
    assert set(cov.categories) == set(demo.standards.categories)


def test_ledger_texts_are_in_the_catalogue_in_both_languages():
    from spatial.outputs.ledger import summary_sheets, write

    catalogue = tomllib.loads((settings.DATA_DIR / "i18n.toml").read_text("utf-8"))
    for lang in ("zh", "en"):  # both ledger writers read their texts from the catalogue
        assert write._headers(lang) == catalogue[lang]["ledger"]
        assert summary_sheets._texts(lang) == catalogue[lang]["ledger"]

    def shape(table):
        return {k: shape(v) if isinstance(v, dict) else None for k, v in table.items()}

    zh, en = catalogue["zh"]["ledger"], catalogue["en"]["ledger"]
    assert shape(zh) == shape(en)
    assert (
        zh["sheets"]["communities"] == "小区台账" and en["sheets"]["communities"] == "Communities"
    )
    assert zh["tiers"]["priority"] == "优先改造"
