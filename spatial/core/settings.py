"""Package-wide defaults, the last word of one rule.

A setting takes the project file's value if the project file sets it; else, for the settings a
standards file carries (``walk_speed_kmh``), the standards file's value; else the value here.
``spatial.config.project`` dataclasses use these constants as their defaults, or ``None`` where the
standards file may decide (resolved in ``spatial.config.standards.load_standards``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DATA_DIR: Path = Path(str(resources.files("spatial.data")))
STANDARDS_DIR: Path = DATA_DIR / "standards"
DEMO_DIR: Path = DATA_DIR / "demo"
DEMO_PROJECT: Path = DEMO_DIR / "project.toml"
DEFAULT_OUT: Path = Path("maps")

#: China bounding box (lon/lat) used to sanity-check Chinese coordinates.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)

#: Walking-network defaults.
WALK_SPEED_KMH = 4.0
DETOUR_FACTOR = 1.3
SEARCH_BOUND_M = 1000.0
ACCESS_SPACING_M = 25.0
MAX_SNAP_M = 500.0
SERVICE_AREA_BUFFER_M = 30.0
#: A road-centreline layer's end this close (m) to a street at its level is joined to it.
NETWORK_SNAP_M = 2.0
#: The largest connected part of the network must hold this share of the street length, else
#: the run is refused (``[network] min_connected_share``); below the warning share it is warned.
NETWORK_MIN_CONNECTED_SHARE = 0.5
NETWORK_WARN_CONNECTED_SHARE = 0.9
#: what one input file may hold or expand to (a compressed OSM extract, an XLSX), MiB:
#: ``[project] input_limit_mb``; a bomb or an endless stream stops here with one line
INPUT_LIMIT_MB = 2048.0
#: what one table (CSV, XLSX: read whole into memory) may hold or expand to, MiB:
#: ``[project] table_limit_mb`` (a 300 MB cell took 39 s and gigabytes to read)
TABLE_LIMIT_MB = 256.0
#: the most cells of an elevation raster read under the streets (``[network] elevation``): 10^8
#: cells are 800 MB as float64 — a 5 m DEM over 50 km × 50 km; only the window covering the
#: network is read, a larger one is refused (clip or resample the raster to the study area)
ELEVATION_MAX_CELLS = 100_000_000
#: elevations outside this range (m) are no-data: the lowest land is the Dead Sea shore (−430 m),
#: the highest Everest (8,849 m); an undeclared void (SRTM −32768, ASTER −9999, float32 −3.4e38)
#: read as an elevation would turn each street beside it into a wall
ELEVATION_RANGE_M = (-500.0, 9000.0)
#: a plausibility check of the elevation raster, not a limit (results are unchanged): when more
#: than ``STEEP_WARN_SHARE`` of the street length is steeper than ``STEEP_GRADE`` (30 %), the run
#: warns (``problem_network_steep_streets``). Streets that steep are rare even in hill cities (a
#: judgement of the attack pass, not a cited standard): a share like that means a raster in other
#: units (feet, decimetres) or too coarse (2 × 2 cells with 1,000 m relief made Tobler's walk
#: near-infinite and coverage 0 % without a word)
STEEP_GRADE = 0.30
STEEP_WARN_SHARE = 0.05

#: Defaults of the standards files when they leave a value out (``gb50180_2018.toml``
#: ``national_target``, ``colocation.toml`` ``default_far``).
NATIONAL_TARGET = 0.85
DEFAULT_FAR = 1.5

#: Upper plausibility limits of numeric columns, by column role (``spatial.inputs.load`` passes them to
#: ``parse.parse_number``): a value above one is a typing or unit error (a misplaced decimal point,
#: 万 forgotten, hectares read as m², a spreadsheet's 1E+300), never a real place, so the run stops
#: and names the cell instead of printing a headline of absurd numbers.
PLAUSIBLE_MAX: dict[str, float] = {
    # Households per community: the largest Chinese compounds (天通苑, 回龙观) hold tens of
    # thousands of households; 200,000 is beyond any one compound.
    "households": 200_000,
    # Persons per community (residents, or of them the old, infants, pre-schoolers): a
    # town-sized 1,000,000 is far above the largest compound (a few hundred thousand residents).
    "population": 1_000_000,
    "older": 1_000_000,
    "infants": 1_000_000,
    "preschoolers": 1_000_000,
    # Beds / places per facility: the largest hospitals and care homes have a few thousand beds,
    # the largest kindergartens a few thousand places; 100,000 is no single facility.
    "beds": 100_000,
    "places": 100_000,
    # Areas in m² per row (a community's or facility's floor area, a parcel's land area or
    # allowed floor area): 10,000,000 m² = 10 km², more than the largest compound's floor area.
    "floor_area": 10_000_000,
    "area": 10_000_000,
    "max_floor_area": 10_000_000,
}

#: The one definition of which analysis stages each command runs (``cli`` and ``pipeline``).
COMMAND_STAGES: dict[str, tuple[str, ...]] = {
    "run": ("coverage", "bundle", "sites", "plan", "map"),
    "coverage": ("coverage",),
    "bundle": ("coverage", "bundle"),
    "sites": ("coverage", "sites"),
    "map": ("coverage", "bundle", "sites", "plan", "map"),
    # the programme by year (年度计划); in run and map only when the project has a [plan] section
    "plan": ("coverage", "bundle", "plan"),
}
ALL_STAGES: tuple[str, ...] = COMMAND_STAGES["run"]

#: from this many communities on, a run uses forked worker processes (:mod:`spatial.core.parallel`): the
#: service areas and bundles beside the sites, and the maps, ledger and print pack side by side
#: (:mod:`spatial.workflow.write`); a smaller run does them in turn in one process
PARALLEL_FROM = 1000

#: ``lifecircle batch`` on a LocalCluster: memory a worker needs for one project (a city of
#: 5,000 communities peaks at about 1.3 GB, 50,000 communities at about 1.5 GB), so that the
#: machine runs at most ``total memory // BATCH_BYTES_PER_PROJECT`` projects at once
BATCH_BYTES_PER_PROJECT = 1_500_000_000
