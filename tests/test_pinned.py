"""Behaviour pinned to exact values: defaults, the demo's summary, reference coordinate pairs and
README promises that had no test of their own."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from spatial import settings
from spatial.config import load_project
from spatial.maps import community_popup
from spatial.standards import load_standards


def _project(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('[communities]\npath = "c.gpkg"\n' + text, encoding="utf-8")
    return path


def _standards_copy(tmp_path: Path, speed: str) -> Path:
    text = (settings.STANDARDS_DIR / "gb50180_2018.toml").read_text(encoding="utf-8")
    assert "walk_speed_kmh = 4.0\n" in text
    path = tmp_path / "my_standards.toml"
    path.write_text(text.replace("walk_speed_kmh = 4.0\n", f"walk_speed_kmh = {speed}\n"), "utf-8")
    return path


def _minutes_shown(project, std) -> str:
    """The popup's text for a community 1000 m from a market."""
    row = pd.Series({"name": "甲", "gaps": 0, "market_m": 1000.0, "market_ok": False})
    result = SimpleNamespace(standards=std, project=project)
    return str(community_popup(row, result, "en"))


def test_standards_file_walk_speed_changes_the_minutes_shown(tmp_path):
    """One rule: project file, else standards file, else settings (5 km/h: 1000 m = 12 min)."""
    _standards_copy(tmp_path, "5.0")
    project = load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    assert project.coverage.walk_speed_kmh is None
    std = load_standards(project)
    assert std.walk_speed_kmh == 5.0
    assert std.minutes(1000) == pytest.approx(12.0)
    assert "1000 m / 12 " in _minutes_shown(project, std)
    default = load_project(_project(tmp_path, ""))
    assert "1000 m / 15 " in _minutes_shown(default, load_standards(default))


def test_project_walk_speed_wins_over_the_standards_file(tmp_path):
    _standards_copy(tmp_path, "5.0")
    text = '[standards]\npath = "my_standards.toml"\n[coverage]\nwalk_speed_kmh = 3\n'
    std = load_standards(load_project(_project(tmp_path, text)))
    assert std.walk_speed_kmh == 3.0 and std.minutes(1000) == pytest.approx(20.0)


def test_standards_file_without_walk_speed_takes_settings(tmp_path):
    path = _standards_copy(tmp_path, "5.0")
    path.write_text(path.read_text("utf-8").replace("walk_speed_kmh = 5.0\n", ""), "utf-8")
    std = load_standards(
        load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    )
    assert std.walk_speed_kmh == settings.WALK_SPEED_KMH


def test_standards_file_bad_walk_speed_is_named(tmp_path):
    from spatial.errors import ConfigError

    _standards_copy(tmp_path, "-1")
    project = load_project(_project(tmp_path, '[standards]\npath = "my_standards.toml"\n'))
    with pytest.raises(ConfigError, match="walk_speed_kmh = -1"):
        load_standards(project)
