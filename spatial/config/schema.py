"""The settings of a project: every key with its type and default (the ``*Config`` dataclasses,
``Project``); :mod:`spatial.config.checks` checks their values before anything runs.

``config`` parses the project file into these; the ``init`` template documents the same keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatial.core import settings

COORDS = ("", "auto", "wgs84", "cgcs2000", "gcj02", "bd09")


@dataclass
class LayerConfig:
    """Where one input layer is and how its columns are named (empty = auto-detect)."""

    path: str = ""
    layer: str = ""
    encoding: str = ""
    coords: str = ""
    crs: str = ""
    header_row: str = ""  # spreadsheet row (1-based) holding the headers; empty = detected
    columns: dict[str, str] = field(default_factory=dict)
    #: ``[facilities] aliases``: category text or name keyword → category (key, name or alias)
    aliases: dict[str, str] = field(default_factory=dict)
    #: the layer given as a (Geo)DataFrame instead of a file (the Python API, never the project
    #: file): read by ``load.load_layers`` exactly as a file's rows, never modified
    frame: Any = field(default=None, compare=False, repr=False)

    def given(self) -> bool:
        """Whether the layer is given: a path or a frame."""
        return bool(self.path) or self.frame is not None


@dataclass
class GatesConfig(LayerConfig):
    """``[gates]`` of the project file: a gate layer (``path``: a point file, a Gaode POI export,
    or ``osm`` for the entrances of the ``[network]`` OSM file) and how gates are assigned and
    walked to; each key is explained in ``spatial/config/template.toml``."""

    tolerance_m: float = 30.0
    inner: str = "none"
    inner_detour: float = settings.DETOUR_FACTOR


#: the settings of ``[gates]`` beside its layer keys
GATE_SETTINGS = ("tolerance_m", "inner", "inner_detour")
INNER_RULES = ("none", "mean", "farthest")


@dataclass
class NetworkConfig:
    """``[network]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    path: str = ""
    place: str = ""
    layer: str = ""  # for multi-layer files (a road-centreline layer)
    encoding: str = ""  # a Shapefile's .dbf without .cpg; detected when empty
    crs: str = ""  # a road layer without a CRS (.prj missing), e.g. "EPSG:4548"
    # road-centreline layer columns (empty = detected from data/standards/columns.toml [network];
    # "none" = the layer has no such column)
    name: str = ""
    road_class: str = ""
    bridge: str = ""
    tunnel: str = ""
    elevated: str = ""
    level: str = ""
    snap_m: float = settings.NETWORK_SNAP_M
    min_connected_share: float = settings.NETWORK_MIN_CONNECTED_SHARE
    #: an elevation GeoTIFF (any CRS, metres): slopes cost by Tobler's hiking function (hills)
    elevation: str = ""


@dataclass
class CoverageConfig:
    """``[coverage]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    basket: list[str] = field(default_factory=list)
    radius: dict[str, float] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    add: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: None = not set in the project file: the standards file's ``walk_speed_kmh`` applies
    #: (else ``settings.WALK_SPEED_KMH``); see :func:`spatial.config.standards.load_standards`.
    walk_speed_kmh: float | None = None
    detour_factor: float = settings.DETOUR_FACTOR
    search_bound_m: float = settings.SEARCH_BOUND_M
    access_spacing_m: float = settings.ACCESS_SPACING_M
    max_snap_m: float = settings.MAX_SNAP_M
    service_area_buffer_m: float = settings.SERVICE_AREA_BUFFER_M
    #: "distance": GB 50180's radii; "time": each level's 5/10/15 minutes at the pace of the
    #: group a category serves (data/standards/walk_speeds.toml)
    threshold: str = "distance"


@dataclass
class PolicyConfig:
    """``[policy]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    old_cutoff: dt.date = dt.date(2005, 12, 31)
    priority_cutoff: dt.date = dt.date(2000, 12, 31)
    exclude_column: str = ""
    exclude_values: list[str] = field(default_factory=list)
    min_willingness: float = 2 / 3


@dataclass
class BundlingConfig:
    """``[bundling]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    tolerance_m: float = 30.0
    same_subdistrict: bool = False
    max_households: float = 3000.0
    min_members: int = 2
    max_span_m: float = 1000.0
    barrier_path: str = ""
    barrier_highways: list[str] = field(
        default_factory=lambda: ["motorway", "trunk", "primary", "secondary"]
    )
    partner_kinds: list[str] = field(
        default_factory=lambda: ["旧厂区", "棚户区", "城中村", "危房", "危房C级", "危房D级"]
    )


@dataclass
class PriorityConfig:
    """``[priority]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    tier: float = 40.0
    gaps: float = 30.0
    willingness: float = 15.0
    infrastructure: float = 10.0
    funding: float = 5.0
    shortfall: float = (
        0.0  # capacity shortfall (spatial.analysis.capacity.twostep); 0 = not weighed
    )


@dataclass
class SitingConfig:
    """``[siting]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    max_sites: int = 5
    min_area: dict[str, float] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    exact_max_parcels: int = 400
    exact_time_limit_s: float = 5.0
    objective: str = "full_coverage"  # or "households"
    size_from_shortfall: bool = True  # size facilities with an indicator from the shortfall


@dataclass
class CapacityConfig:
    """Supply against demand (2SFCA); empty / 0 values take data/standards/capacity.toml."""

    path: str = ""
    decay: str = "none"
    persons_per_household: float = 0.0
    shares: dict[str, float] = field(default_factory=dict)
    subdistricts: dict[str, dict[str, float]] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    targets_existing: dict[str, float] = field(default_factory=dict)


@dataclass
class RenderConfig:
    """``[render]`` of the project file; each key is explained in ``spatial/config/template.toml``."""

    basemap: str = "cartodb"
    tianditu_key: str = ""


@dataclass
class PlanConfig:
    """``[plan]`` of the project file (年度计划: compounds and bundles by year); each key is
    explained in ``spatial/config/template.toml``. A cap or deadline of 0 is not set."""

    start: int = 0
    end: int = 0
    max_households: float = 0.0
    max_floor_area: float = 0.0
    max_compounds: int = 0
    max_investment: float = 0.0
    unit_cost: float = 0.0
    cost_column: str = ""
    priority_by: int = 0
    share: float = 0.0
    share_by: int = 0
    min_willingness: float | None = None
    split_bundles: bool = False
    status_column: str = ""
    year_column: str = ""
    method: str = "exact"
    time_limit_s: float = 30.0


@dataclass
class Project:
    """All settings of one run, parsed once from the project TOML."""

    name: str = "老旧小区改造"
    lang: str = "zh"
    crs: str = ""
    input_limit_mb: float = settings.INPUT_LIMIT_MB
    table_limit_mb: float = settings.TABLE_LIMIT_MB
    base_dir: Path = field(default_factory=Path.cwd)
    source: Path | None = None
    standards_path: str = ""
    communities: LayerConfig = field(default_factory=LayerConfig)
    facilities: LayerConfig = field(default_factory=LayerConfig)
    parcels: LayerConfig = field(default_factory=LayerConfig)
    subdistricts: LayerConfig = field(default_factory=LayerConfig)
    gates: GatesConfig = field(default_factory=GatesConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    coverage: CoverageConfig = field(default_factory=CoverageConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    bundling: BundlingConfig = field(default_factory=BundlingConfig)
    priority: PriorityConfig = field(default_factory=PriorityConfig)
    siting: SitingConfig = field(default_factory=SitingConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    capacity: CapacityConfig = field(default_factory=CapacityConfig)
    plan: PlanConfig | None = None  # None: the project file has no [plan] section

    def resolve(self, path: str) -> Path:
        """Resolve a path from the project file against the file's folder.

        Parameters
        ----------
        path : str

        Returns
        -------
        Path
        """
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p
