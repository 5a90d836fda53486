"""`lifecircle --help` and `check` do not pay for imports they do not use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["folium", "matplotlib", "pulp", "osmnx", "networkx", "pyrosm", "openpyxl", "libpysal"]


def _loaded_after(code: str) -> set[str]:
    probe = f"""
import contextlib, io, json, sys
with contextlib.redirect_stdout(io.StringIO()):
{code}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_help_imports_no_gis_or_map_library():
    loaded = _loaded_after(
        "    from spatial.cli.main import main\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass"
    )
    assert "spatial" in loaded
    assert loaded.isdisjoint(
        HEAVY + ["geopandas", "pandas", "shapely", "scipy", "pyproj", "dask", "distributed"]
    )


def test_the_pipeline_module_imports_no_map_solver_or_download_library():
    loaded = _loaded_after("    import spatial.run.pipeline")
    assert "geopandas" in loaded
    assert loaded.isdisjoint(HEAVY)
