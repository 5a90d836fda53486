"""Package-wide defaults, the last word of one rule.

A setting takes the project file's value if the project file sets it; else, for the settings a
standards file carries (``walk_speed_kmh``), the standards file's value; else the value here.
``spatial.config`` dataclasses use these constants as their defaults, or ``None`` where the
standards file may decide (resolved in ``spatial.standards.load_standards``).
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

#: Defaults of the standards files when they leave a value out (``gb50180_2018.toml``
#: ``national_target``, ``colocation.toml`` ``default_far``).
NATIONAL_TARGET = 0.85
DEFAULT_FAR = 1.5

#: The one definition of which analysis stages each command runs (``cli`` and ``pipeline``).
COMMAND_STAGES: dict[str, tuple[str, ...]] = {
    "run": ("coverage", "bundle", "sites", "map"),
    "coverage": ("coverage",),
    "bundle": ("coverage", "bundle"),
    "sites": ("coverage", "sites"),
    "map": ("coverage", "bundle", "sites", "map"),
}
ALL_STAGES: tuple[str, ...] = COMMAND_STAGES["run"]
