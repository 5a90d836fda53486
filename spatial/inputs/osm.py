"""The one OSM reader (pyosmium): walkable street ways for the network, and communities and
facilities derived from the same extract. Reads ``.osm``, ``.osm.bz2``/``.osm.gz`` and
``.osm.pbf``; the walking filter is data (``data/standards/osm_walk.toml``)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.standards import load_osm_tags
from spatial.core import settings
from spatial.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    import osmium

_TAG_KEYS = ("amenity", "shop", "leisure", "healthcare", "social_facility", "landuse")
#: libosmium marks a node reference whose node is not in the file with this coordinate.
_UNDEFINED = 2147483647
_FORMATS = ((".pbf", "pbf"), (".bz2", "osm.bz2"), (".gz", "osm.gz"))


@dataclass(frozen=True)
class WalkFilter:
    """Which tagged ways are walked (``osm_walk.toml``): a way needs ``highway`` and none of the
    ``exclude`` values, except those ``foot_lifts`` lifts when ``foot`` is in ``foot_allows``.

    Attributes
    ----------
    exclude : mapping of str to frozenset of str
        Tag key → values that make a way not walked.
    foot_allows : frozenset of str
        ``foot`` values that lift some exclusions.
    foot_lifts : mapping of str to frozenset of str
        Tag key → the excluded values such a ``foot`` value lifts.
    """

    exclude: Mapping[str, frozenset[str]]
    foot_allows: frozenset[str]
    foot_lifts: Mapping[str, frozenset[str]]

    @property
    def keys(self) -> tuple[str, ...]:
        """The tag keys the filter looks at (``highway`` first)."""
        return tuple(dict.fromkeys(("highway", *self.exclude)))

    def walkable(self, tags: Mapping[str, object]) -> bool:
        """True when a way with these tags is a walkable street.

        Parameters
        ----------
        tags : mapping of str to object
            A way's tags (absent keys: untagged).

        Returns
        -------
        bool
        """
        if not tags.get("highway"):
            return False
        allowed = tags.get("foot") in self.foot_allows
        for key, values in self.exclude.items():
            value = tags.get(key)
            if value in values and not (allowed and value in self.foot_lifts.get(key, ())):
                return False
        return True


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("err_standards_read", path=path, reason=exc) from None


@cache
def walk_filter() -> WalkFilter:
    """The walking filter of ``data/standards/osm_walk.toml``."""
    raw = _read_toml(settings.STANDARDS_DIR / "osm_walk.toml")

    def sets(table: dict) -> dict[str, frozenset[str]]:
        return {k: frozenset(map(str, v)) for k, v in table.items()}

    return WalkFilter(
        exclude=sets(raw.get("exclude", {})),
        foot_allows=frozenset(raw.get("foot_allows", {}).get("foot", ())),
        foot_lifts=sets(raw.get("foot_lifts", {})),
    )


@cache
def road_classes() -> dict:
    """Road-class column names and class → OSM tags (``data/standards/road_classes.toml``)."""
    return _read_toml(settings.STANDARDS_DIR / "road_classes.toml")


def osm_file(path: Path):
    import osmium

    name = path.name.lower()
    fmt = next((f for suffix, f in _FORMATS if name.endswith(suffix)), "osm")
    return osmium.io.File(str(path), fmt)


def corrupt_error(path: Path, exc: Exception) -> InputError:
    return InputError("err_osm_corrupt", path=path, reason=exc)


@dataclass
class StreetWays:
    """Walkable ways as node references: ``ref``/``lon``/``lat`` per reference (NaN where the node
    is missing from the extract), ``way`` (index into ``highway`` and ``way_id``) per reference.

    Attributes
    ----------
    ref, lon, lat, way : (k,) arrays
        Per node reference of a walkable way, in way order.
    highway : (w,) object array
        Per way.
    way_id : (w,) int array
    """

    ref: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    way: np.ndarray
    highway: np.ndarray
    way_id: np.ndarray  # OSM way ids


def read_street_ways(path: Path) -> StreetWays:
    """Every walkable way of an OSM file (one pyosmium pass, node locations cached in C++).

    Parameters
    ----------
    path : Path
        ``.osm``, ``.osm.bz2``/``.gz`` or ``.osm.pbf``.

    Returns
    -------
    StreetWays

    Raises
    ------
    InputError
        The file is truncated or corrupt.
    """
    import osmium

    rules = walk_filter()
    nodes: list[tuple[int, int, int]] = []
    counts: list[int] = []
    highway: list[str] = []
    way_ids: list[int] = []
    keys = rules.keys
    walkable: dict = {}  # tag values seen → the filter's verdict (few distinct combinations)
    processor = (
        osmium.FileProcessor(osm_file(path))
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            tags = way.tags
            # reading tags costs Python calls: a way tagged only highway=* needs one
            seen = tags.get("highway") if len(tags) == 1 else tuple(tags.get(k) for k in keys)
            verdict = walkable.get(seen)
            if verdict is None:
                one = isinstance(seen, str)
                values = {"highway": seen} if one else dict(zip(keys, seen, strict=True))
                verdict = walkable[seen] = rules.walkable(values)
            if not verdict:
                continue
            before = len(nodes)
            nodes += [(n.ref, n.x, n.y) for n in way.nodes]
            counts.append(len(nodes) - before)
            highway.append(seen if isinstance(seen, str) else seen[0])  # keys[0] is highway
            way_ids.append(way.id)
    except RuntimeError as exc:
        raise corrupt_error(path, exc) from None
    table = np.array(nodes, dtype=np.int64).reshape(-1, 3)
    x = table[:, 1].astype(np.float64)
    y = table[:, 2].astype(np.float64)
    missing = table[:, 1] == _UNDEFINED
    x[missing] = np.nan
    y[missing] = np.nan
    return StreetWays(
        ref=table[:, 0],
        lon=x / 1e7,
        lat=y / 1e7,
        way=np.repeat(np.arange(len(counts)), counts),
        highway=np.asarray(highway, dtype=object),
        way_id=np.asarray(way_ids, dtype=np.int64),
    )


def read_features(path: Path, tags: dict[str, list[str]]) -> gpd.GeoDataFrame:
    """Tagged nodes (points), areas (closed ways and multipolygon relations) and, as the centre of
    their present nodes, ways forming no area (open or clipped) of an OSM file that match any of
    ``tags`` (key → values), with their tag values as columns.

    Parameters
    ----------
    path : Path
    tags : dict of str to list of str
        OSM key → values to keep.

    Returns
    -------
    GeoDataFrame
        Lon/lat (EPSG:4326), with ``osm_id``, ``name`` and the tag columns.
    """
    import osmium

    pairs = [(k, v) for k, values in tags.items() for v in values]
    columns = tuple(dict.fromkeys(("name", *tags, *_TAG_KEYS)))
    wkb = osmium.geom.WKBFactory()
    rows, geoms = [], []
    processor = (
        osmium.FileProcessor(osm_file(path))
        .with_areas(osmium.filter.TagFilter(*pairs))
        .with_filter(osmium.filter.TagFilter(*pairs))
    )
    try:
        for obj in processor:
            if obj.is_node():
                geom = shapely.Point(obj.location.lon, obj.location.lat)
                osm_id = f"node/{obj.id}"
            elif obj.is_area():
                try:
                    geom = shapely.from_wkb(wkb.create_multipolygon(obj))
                except RuntimeError:  # a broken ring: skip the area, like osmnx and pyrosm
                    continue
                if shapely.get_num_geometries(geom) == 1:
                    geom = shapely.get_geometry(geom, 0)
                osm_id = f"{'way' if obj.from_way() else 'relation'}/{obj.orig_id()}"
            elif obj.is_way():
                geom = _open_or_clipped(obj)
                if geom is None:  # a complete closed way: its area comes separately
                    continue
                osm_id = f"way/{obj.id}"
            else:
                continue
            rows.append({"osm_id": osm_id, **{k: obj.tags.get(k) for k in columns}})
            geoms.append(geom)
    except RuntimeError as exc:
        raise corrupt_error(path, exc) from None
    frame = pd.DataFrame(rows, columns=["osm_id", *columns])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)


def _open_or_clipped(way: osmium.osm.Way) -> shapely.Point | None:
    """The centre of a tagged way that forms no area (open, or clipped by the extract: only its
    present nodes), so a facility at the border keeps a location; None for complete rings."""
    nodes = way.nodes
    present = [(n.lon, n.lat) for n in nodes if n.location.valid()]
    if not present or (len(present) == len(nodes) and nodes.is_closed()):
        return None
    return shapely.MultiPoint(present).centroid


def _category_of(row: Mapping, mapping: dict[str, dict[str, list[str]]]) -> str:
    for key, tags in mapping.items():
        for tag, values in tags.items():
            value = row.get(tag)
            if isinstance(value, str) and value in values:
                return key
    return ""


def osm_layer(path: Path, section: str) -> gpd.GeoDataFrame:
    """Residential landuse polygons (communities) or POIs mapped to categories (facilities).

    The tag mapping is ``data/standards/osm_tags.toml``; POIs matching no category are dropped.

    Parameters
    ----------
    path : Path
    section : str
        ``communities`` or ``facilities``.

    Returns
    -------
    GeoDataFrame
        Lon/lat (EPSG:4326).
    """
    if not path.exists():
        raise InputError("err_osm_needs_network", path=path)
    mapping = load_osm_tags()
    if section == "communities":
        frame = read_features(path, mapping["_communities"])
        frame = frame.loc[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        return gpd.GeoDataFrame(frame[["osm_id", "name"]], geometry=frame.geometry, crs=4326)
    cats = {k: v for k, v in mapping.items() if not k.startswith("_")}
    tags: dict[str, list[str]] = {}
    for spec in cats.values():
        for tag, values in spec.items():
            tags.setdefault(tag, []).extend(values)
    frame = read_features(path, tags)
    if len(frame) == 0:
        return gpd.GeoDataFrame({"name": [], "category": []}, geometry=[], crs=4326)
    category = [_category_of(row, cats) for row in frame.to_dict("records")]
    out = gpd.GeoDataFrame(
        {"name": frame["name"].fillna("").astype(str), "category": category},
        geometry=frame.geometry.representative_point(),
        crs=4326,
    )
    return out.loc[out["category"] != ""].reset_index(drop=True)
