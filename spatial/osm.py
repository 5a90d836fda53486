"""Communities and facilities derived from the same OSM extract as the walking network."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import InputError
from .standards import load_osm_tags

_TAG_KEYS = ("amenity", "shop", "leisure", "healthcare", "social_facility", "landuse")


def _features(path: Path, tags: dict[str, list[str]]) -> gpd.GeoDataFrame:
    if path.name.lower().endswith(".pbf"):
        import pyrosm

        osm = pyrosm.OSM(str(path))
        frame = osm.get_data_by_custom_criteria(
            custom_filter=tags, filter_type="keep", keep_nodes=True, keep_ways=True,
            keep_relations=True,
        )  # fmt: skip
        if frame is None:
            return gpd.GeoDataFrame(geometry=[], crs=4326)
        return frame.set_crs(4326, allow_override=True)
    import osmnx as ox

    try:
        return ox.features_from_xml(path, tags={k: v for k, v in tags.items()}).reset_index()
    except ox._errors.InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs=4326)


def _category_of(row: pd.Series, mapping: dict[str, dict[str, list[str]]]) -> str:
    for key, tags in mapping.items():
        for tag, values in tags.items():
            value = row.get(tag)
            if isinstance(value, str) and value in values:
                return key
    return ""


def osm_layer(path: Path, section: str) -> gpd.GeoDataFrame:
    """Residential landuse polygons (communities) or POIs mapped to categories (facilities).

    The tag mapping is ``data/standards/osm_tags.toml``; POIs matching no category are dropped.
    """
    if not path.exists():
        raise InputError('path = "osm" needs [network] path to be an OSM extract', path=path)
    mapping = load_osm_tags()
    if section == "communities":
        frame = _features(path, mapping["_communities"])
        frame = frame.loc[frame.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
        keep = [c for c in ("id", "name") if c in frame]
        return gpd.GeoDataFrame(
            frame[keep].rename(columns={"id": "osm_id"}), geometry=frame.geometry
        )
    cats = {k: v for k, v in mapping.items() if not k.startswith("_")}
    tags: dict[str, list[str]] = {}
    for spec in cats.values():
        for tag, values in spec.items():
            tags.setdefault(tag, []).extend(values)
    frame = _features(path, tags)
    if len(frame) == 0:
        return gpd.GeoDataFrame({"name": [], "category": []}, geometry=[], crs=4326)
    category = frame.apply(lambda r: _category_of(r, cats), axis=1)
    names = frame["name"] if "name" in frame else pd.Series("", index=frame.index)
    out = gpd.GeoDataFrame(
        {"name": names.fillna("").astype(str), "category": category},
        geometry=frame.geometry.representative_point(),
        crs=frame.crs,
    )
    return out.loc[out["category"] != ""].reset_index(drop=True)
