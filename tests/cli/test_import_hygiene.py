"""`lifecircle --help` and `check` do not pay for imports they do not use."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = [
    "folium",
    "matplotlib",
    "pulp",
    "osmnx",
    "networkx",
    "pyrosm",
    "openpyxl",
    "libpysal",
    "rasterio",
]


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


@pytest.mark.slow
def test_the_pipeline_module_imports_no_map_solver_or_download_library():
    loaded = _loaded_after("    import spatial.workflow.pipeline")
    assert "geopandas" in loaded
    assert loaded.isdisjoint(HEAVY)


@pytest.mark.slow
def test_importing_every_module_leaves_matplotlib_as_the_user_set_it():
    """A notebook keeps its backend and settings: no module selects a backend, imports pyplot
    or changes an rcParam when it is imported (the print pack draws on its own Agg canvas)."""
    probe = """
import importlib, json, pkgutil, sys
import matplotlib
import spatial
before = dict(matplotlib.rcParams)
names = [m.name for m in pkgutil.walk_packages(spatial.__path__, "spatial.")]
for name in names:
    if not name.endswith("__main__"):
        importlib.import_module(name)
after = dict(matplotlib.rcParams)
print(json.dumps({
    "modules": len(names),
    "printing": "spatial.outputs.printing.pack" in sys.modules,
    "backend": matplotlib.rcParams._get_backend_or_none(),
    "pyplot": "matplotlib.pyplot" in sys.modules,
    "changed": sorted(k for k in before if before[k] != after[k]),
}))
"""
    env = {**os.environ, "MPLBACKEND": "svg"}  # a backend the user chose, not Agg
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["modules"] > 60 and found["printing"]
    assert found["backend"] == "svg"
    assert not found["pyplot"] and found["changed"] == []
