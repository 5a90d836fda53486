"""What a run produced: the inputs, the one analysed communities frame and a frozen result per
analysis stage (:class:`RunResult`), and which frames go into the GeoPackage (:func:`gpkg_layers`).
``pipeline`` fills it; the output modules (maps, print pack, ledger) read it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from spatial.config.indicators import Capacity
from spatial.config.project import Project
from spatial.config.standards import Standards
from spatial.core.messages import Msg
from spatial.core.problems import Problem
from spatial.inputs.load import Layers
from spatial.network.graph import StreetNetwork


@dataclass(frozen=True)
class CapacityResult:
    """The capacity stage (2SFCA): its columns are on :attr:`RunResult.communities`, its figures
    in ``summary["capacity"]``.

    Attributes
    ----------
    settings : Capacity
        The indicators and demographic settings in force (the bundle stage totals per bundle
        with them).
    problems : tuple of Problem
        The data problems the stage found (also added to ``layers.problems``).
    categories : dict
        ``summary["capacity"]["categories"]`` with its names and units not yet in a language.
    """

    settings: Capacity
    problems: tuple[Problem, ...] = ()
    categories: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BundlingResult:
    """The bundle stage: bundles (成片改造片区) and the priority list; ``bundle_id`` is on
    :attr:`RunResult.communities`.

    Attributes
    ----------
    bundles : GeoDataFrame
        One row per bundle with its ``score``, ``rank`` and ``reasons``, sorted by rank.
    priority : GeoDataFrame
        The communities ranked for the annual plan (``priority.community_priorities``).
    notes : tuple of Msg
        Why no bundle could be formed, when that is the case (``summary["bundles"]["notes"]``
        in the run's language).
    """

    bundles: gpd.GeoDataFrame
    priority: gpd.GeoDataFrame
    notes: tuple[Msg, ...] = ()


@dataclass(frozen=True)
class SitingResult:
    """The sites stage (``siting.SiteSelector``).

    Attributes
    ----------
    sites : GeoDataFrame
        One row per recommended (parcel, category).
    programmes : GeoDataFrame
        Every candidate parcel's programme.
    unserved : DataFrame
        (community, category) gaps no parcel closes, with the reason and a suggestion.
    reach : DataFrame
        Every candidate parcel's reach, columns ``pid``, ``cid``, ``distance_m`` (walking
        distance within the largest siting radius), for the maps' what-if mode.
    notes : tuple of Msg
        What the planner should know about the siting, the solver's own note included
        (``summary["sites"]["notes"]`` in the run's language).
    sizing : dict
        ``summary["sites"]["sizing"]`` with its units not yet in a language.
    """

    sites: gpd.GeoDataFrame
    programmes: gpd.GeoDataFrame
    unserved: pd.DataFrame
    reach: pd.DataFrame
    notes: tuple[Msg, ...] = ()
    sizing: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PlanResult:
    """The plan stage (年度计划, :class:`spatial.analysis.plan.planner.Planner`); its figures are
    in ``summary["plan"]``.

    Attributes
    ----------
    plan : GeoDataFrame
        One row per eligible compound: its bundle, figures, ``year`` (NA in the reserve),
        ``state`` (``done``, ``started``, ``planned``, ``reserve``, ``unplanned``) and ``reason``
        (a code, why in the reserve), with the compound's outline.
    years : DataFrame
        Per year of the programme: compounds, bundles, households, floor area, investment.
    """

    plan: gpd.GeoDataFrame
    years: pd.DataFrame


@dataclass
class RunResult:
    """One run: the inputs (:func:`load_inputs`) and what each analysis stage found
    (:func:`analyse`). A stage that did not run leaves its field ``None``.

    There is one communities frame, :attr:`communities` (``layers.communities`` is the same
    frame): the loaded communities, and after :func:`analyse` the analysed ones — the same rows
    with the eligibility columns and, for the stages run, the coverage (``<cat>_m``, ``<cat>_ok``,
    ``<cat>_nearest``, ``gaps``, ``full_coverage``, ``distance_mode``), capacity and
    ``bundle_id`` columns. Which frames go into the GeoPackage: :func:`gpkg_layers`.

    Attributes
    ----------
    project : Project
    standards : Standards
    layers : Layers
        The validated, projected inputs (``load.load_layers``); its ``problems`` grow with the
        problems the stages find.
    network : StreetNetwork or None
        The walking network; ``None``: straight-line distances.
    service_areas : GeoDataFrame or None
        The coverage stage's service areas (``service_areas.service_areas``).
    node_dist : dict of str to ndarray
        Per category reached over the network, the coverage stage's Dijkstra pass (metres from
        the nearest facility to each network node): the HTML maps draw the service areas from
        the streets it reaches (:mod:`spatial.outputs.html.areas`).
    capacity : CapacityResult or None
        The capacity stage (run with coverage).
    bundling : BundlingResult or None
        The bundle stage.
    siting : SitingResult or None
        The sites stage.
    plan : PlanResult or None
        The plan stage (only with a ``[plan]`` section).
    summary : dict
        What ``summary.json`` holds.
    summary_lang : str
        The language its texts are in (``pipeline.localise_summary``; '' before).
    timings : dict of str to float
        Seconds per stage.
    files : list of Path
        The files :func:`write_outputs` wrote.
    """

    project: Project
    standards: Standards
    layers: Layers
    network: StreetNetwork | None = None
    service_areas: gpd.GeoDataFrame | None = None
    node_dist: dict = field(default_factory=dict)
    capacity: CapacityResult | None = None
    bundling: BundlingResult | None = None
    siting: SitingResult | None = None
    plan: PlanResult | None = None
    summary: dict = field(default_factory=dict)
    summary_lang: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def communities(self) -> gpd.GeoDataFrame:
        """The one communities frame: analysed after :func:`analyse` (see the class)."""
        return self.layers.communities

    @communities.setter
    def communities(self, frame: gpd.GeoDataFrame) -> None:
        self.layers = replace(self.layers, communities=frame)


#: The GeoPackage's layers, in the order written (those of stages not run are left out).
GPKG_LAYERS = (
    "communities",
    "service_areas",
    "sites",
    "programmes",
    "bundles",
    "priority",
    "plan",
    "facilities",
    "parcels",
)


def gpkg_layers(result: RunResult) -> dict[str, gpd.GeoDataFrame]:
    """The frames written to ``lifecircle.gpkg``, by layer name in :data:`GPKG_LAYERS` order:
    the analysed communities, each stage's frames (when it ran) and the facilities and parcels
    (parcels only when given).

    Parameters
    ----------
    result : RunResult

    Returns
    -------
    dict of str to GeoDataFrame
    """
    siting, bundling = result.siting, result.bundling
    frames = {
        "communities": result.communities,
        "service_areas": result.service_areas,
        "sites": siting.sites if siting else None,
        "programmes": siting.programmes if siting else None,
        "bundles": bundling.bundles if bundling else None,
        "priority": bundling.priority if bundling else None,
        "plan": result.plan.plan if result.plan else None,
        "facilities": result.layers.facilities,
        "parcels": result.layers.parcels if len(result.layers.parcels) else None,
    }
    return {name: frames[name] for name in GPKG_LAYERS if frames[name] is not None}
