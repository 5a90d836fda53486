"""The parcels of an interactive map's store: the recommended sites (one card per parcel with its
whole programme), the unpicked candidates and the bundles' partner parcels, each with the
categories it adds in the what-if mode and its reach set (delta-coded community indices by
distance class), so that ``maps.js`` recomputes coverage offline.

Built once per run (:class:`ParcelTable`, shared by the overview and the group maps); every
text is :class:`spatial.text.html.Html` before it is stored.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.analysis.result import RunResult
from spatial.config.colocation import load_rules, needs
from spatial.core.messages import labels, text
from spatial.outputs.html.leaflet import display_frame
from spatial.outputs.html.store import encode
from spatial.text.html import Html, esc, fragment, fragments, join


def parcel_programmes(result: RunResult, keys: list[str]) -> dict[str, list[str]]:
    """For each candidate parcel (``result.siting.reach``): the categories of ``keys`` it has room for
    alone (the siting's sizes and co-location rules) and that would reach a community now lacking
    them — what a what-if click adds."""
    reach = result.siting.reach if result.siting else None
    if reach is None or len(reach) == 0:
        return {}
    parcels = result.layers.parcels.set_index("pid")
    comm = result.communities.set_index("cid")
    rules = load_rules()
    sizes = needs(result.standards, result.project.siting, rules)
    land = parcels["area_m2"].astype(float)
    given = (
        parcels["max_floor_area"].astype(float) if "max_floor_area" in parcels else land * np.nan
    )
    floor = given.where(np.isfinite(given), land * rules.default_far)
    out: dict[str, list[str]] = {}
    for key in keys:
        need = sizes.get(key)
        if need is None:  # no known size: not sited
            continue
        cat = result.standards.categories[key]
        near = reach.loc[reach["distance_m"] <= cat.radius_m]
        near = near.loc[~comm.loc[near["cid"], f"{key}_ok"].to_numpy(bool)]
        pids = pd.Index(near["pid"].unique())
        known = pids.isin(land.index)  # an unknown parcel counts as 0 m² (then NaN fails)
        fits = (np.where(known, land.reindex(pids), 0) + 1e-6 >= need.land) & (
            np.where(known, floor.reindex(pids), 0) + 1e-6 >= need.floor
        )
        for pid in pids[fits]:
            out.setdefault(pid, []).append(key)
    return out


def reach_store(
    result: RunResult,
    cid_index: pd.Series,
    pids: list[str],
    radii: list[float],
    reach_m: list[float],
) -> list[list[list[int]]]:
    """The reach sets of the what-if, per parcel of ``pids``: the communities within ``reach_m``
    of it (the largest radius of the categories it adds; 0 for none), in distance classes: class
    ``c`` holds those with ``radii[c-1] < distance <= radii[c]`` (``radii`` ascending), so that a
    category of radius ``radii[c]`` reaches classes 0…c — the rule of the siting, no metres
    needed. Each class is a sorted list of community indices as differences (first the index
    itself): mostly small numbers."""
    reach = result.siting.reach if result.siting else None
    out: list[list[list[int]]] = [[] for _ in pids]
    if reach is None or len(reach) == 0:
        return out
    row = pd.Series(np.arange(len(pids)), index=pids)
    row = row[~row.index.duplicated()]
    sel = reach.loc[reach["pid"].isin(row.index)]
    parcel = row.loc[sel["pid"]].to_numpy()
    dist = sel["distance_m"].to_numpy(float)
    limit = np.asarray(reach_m, float)[parcel]
    keep = (dist <= limit) & (limit > 0)
    parcel, dist = parcel[keep], dist[keep]
    comm = cid_index.loc[sel["cid"].to_numpy()[keep]].to_numpy(np.int64)
    cls = np.searchsorted(np.asarray(radii, float), dist, side="left")
    order = np.lexsort((comm, cls, parcel))
    parcel, cls, comm = parcel[order], cls[order], comm[order]
    delta = comm.copy()
    delta[1:] -= comm[:-1]
    new = np.r_[True, (parcel[1:] != parcel[:-1]) | (cls[1:] != cls[:-1])]
    delta[new] = comm[new]
    starts = np.flatnonzero(new)
    values, bounds = delta.tolist(), np.r_[starts, len(comm)].tolist()  # one conversion, sliced
    heads = zip(parcel[starts].tolist(), cls[starts].tolist(), bounds[:-1], bounds[1:], strict=True)
    for p, c, start, stop in heads:
        classes = out[p]
        classes.extend([] for _ in range(c + 1 - len(classes)))
        classes[c] = values[start:stop]
    return out


def site_card(
    pid: str, parcel: pd.Series | None, rows: pd.DataFrame, result, lang: str, lab: dict
) -> Html:
    """Popup of one programme parcel: id, kind, area, every facility with its new households."""
    std = result.standards
    head = fragment("<b>{} {}</b>", lab["parcel"], esc(pid))
    facts = []
    if parcel is not None:
        facts.append(fragment("{}: {}", lab["parcel_kind"], esc(parcel.get("kind"))))
        facts.append(
            fragment("{}: {:,.0f}\u00a0m²", lab["parcel_area"], float(parcel.get("area_m2", 0)))
        )
    items = [
        fragment(
            "<li>{}（{}）— {} {:,}</li>" if lang == "zh" else "<li>{} ({}) — {} {:,}</li>",
            std.categories[r["category"]].label(lang),
            text(lang, "site_rank", rank=int(r["rank"])),
            lab["new_households"],
            int(r["new_households"]),
        )
        for _, r in rows.iterrows()
    ]
    body = (
        fragment(
            "<br>{}<ul style='margin:2px 0 0 16px;padding:0'>{}</ul>", lab["programme"], join(items)
        )
        if items
        else Html("")
    )
    return fragment("<div class=lc-card>{}<br>{}{}</div>", head, join(facts, "<br>"), body)


def parcel_cards(
    table: ParcelTable, pids: list[str], progs: list[list[str]], lang: str, lab: dict
) -> list[Html]:
    """Popups of candidate and partner parcels: id, kind, area and the categories a what-if click
    adds (``progs``, "none" for an empty list)."""
    cat = table.categories
    sep = labels(lang)["sep_list"]
    names: dict[tuple, Html | str] = {}
    for prog in map(tuple, progs):
        if prog not in names:
            names[prog] = (
                join([esc(cat[k].label(lang)) for k in prog], sep) if prog else lab["none"]
            )
    n = len(pids)
    return fragments(
        "<div class=lc-card><b>{} {}</b><br>{}: {}<br>{}: {:,.0f}\u00a0m²<br>{}: {}</div>",
        [lab["parcel"]] * n,
        [table.pid_html(p) for p in pids],
        [lab["parcel_kind"]] * n,
        [table.kind_html[table.row[p]] for p in pids],
        [lab["parcel_area"]] * n,
        [table.area[table.row[p]] for p in pids],
        [lab["whatif_programme"]] * n,
        [names[tuple(prog)] for prog in progs],
    )


class ParcelTable:
    """What the parcel layers of every map of one run share, computed once: the parcels' escaped
    kinds and areas by id, the programme of every candidate over all categories
    (:func:`parcel_programmes`; a map's is the part within its categories), the candidates in id
    order and the parcels' display geometries (:func:`encode`, each computed once)."""

    def __init__(self, result: RunResult, basemap: str, origin) -> None:
        parcels = result.layers.parcels
        self.parcels, self.basemap, self.origin = parcels, basemap, origin
        self.categories = result.standards.categories
        self.row = dict(zip(parcels["pid"], range(len(parcels)), strict=True))
        kinds = parcels["kind"] if "kind" in parcels else [None] * len(parcels)
        self.kind_html = [esc(k) for k in kinds]
        area = parcels["area_m2"] if "area_m2" in parcels else np.zeros(len(parcels))
        self.area = [float(a) for a in area]
        self._pid_html: dict[str, Html] = {}
        self.programmes = parcel_programmes(result, list(self.categories))
        reach = result.siting.reach if result.siting else None
        self.reach_pids = sorted(set(reach["pid"].unique())) if reach is not None else []
        self._geom: dict[str, list] = {}

    def pid_html(self, pid: str) -> Html:
        out = self._pid_html.get(pid)
        if out is None:
            out = self._pid_html[pid] = esc(pid)
        return out

    def programme(self, pid: str, keys: set[str]) -> list[str]:
        """The categories of ``keys`` a what-if click on ``pid`` adds."""
        return [k for k in self.programmes.get(pid, []) if k in keys]

    def geometry(self, pids: list[str]) -> list:
        """The encoded display geometries of ``pids`` (simplified by 1 m)."""
        new = [p for p in dict.fromkeys(pids) if p not in self._geom]
        if new:
            rows = [self.row[p] for p in new]
            frame = gpd.GeoDataFrame(
                geometry=self.parcels.geometry.values[rows], crs=self.parcels.crs
            )
            disp = display_frame(frame, self.basemap, tolerance=1.0)
            self._geom.update(zip(new, encode(disp.geometry.values, self.origin), strict=True))
        return [self._geom[p] for p in pids]


def parcel_store(
    result: RunResult,
    comm,
    lang,
    basemap,
    origin,
    keys: list[str],
    group: bool,
    table: ParcelTable | None = None,
) -> dict:
    """Programme parcels (one per parcel), unpicked candidates and partner parcels, with the
    categories each adds in the what-if mode and its reach set; ``table`` the run's parcels
    (:class:`ParcelTable`, shared by its maps)."""
    lab = labels(lang)
    std = result.standards
    table = table or ParcelTable(result, basemap, origin)
    cat_index = {k: i for i, k in enumerate(std.categories)}
    by_pid = table.row
    wanted = keys if group else list(std.categories)
    sites = result.siting.sites if result.siting else None
    sites = sites.loc[sites["category"].isin(wanted)] if sites is not None else None
    rows: list[tuple[str, str, Html, list[int]]] = []
    site_pids: list[str] = []
    if sites is not None and len(sites):
        parcels = table.parcels
        for pid, grp in sites.groupby("pid", sort=False):
            parcel = parcels.iloc[by_pid[pid]] if pid in by_pid else None
            card = site_card(pid, parcel, grp, result, lang, lab)
            rows.append((pid, "site", card, [cat_index[k] for k in grp["category"]]))
            site_pids.append(pid)
    more: list[tuple[str, str, list[str]]] = []
    if result.siting is not None:
        taken, want = set(site_pids), set(wanted)
        for pid in table.reach_pids:
            if pid not in taken and pid in by_pid:
                prog = table.programme(pid, want)
                if prog:
                    more.append((pid, "candidate", prog))
    bundles = result.bundling.bundles if result.bundling else None
    if not group and bundles is not None and len(bundles):
        partners = {
            p for v in bundles["partner_parcels"].fillna("") for p in str(v).split(",") if p
        }
        more += [(pid, "partner", []) for pid in sorted(partners & set(by_pid))]
    cards = parcel_cards(table, [m[0] for m in more], [m[2] for m in more], lang, lab)
    for (pid, kind, prog), card in zip(more, cards, strict=True):
        rows.append((pid, kind, card, [cat_index[k] for k in prog]))
    if not rows:
        return {"pid": [], "kind": [], "card": [], "prog": [], "geom": [], "radii": [], "reach": []}
    pids = [r[0] for r in rows]
    cid_index = pd.Series(np.arange(len(comm)), index=comm["cid"])
    radii = sorted({c.radius_m for c in std.categories.values()})
    cats = list(std.categories.values())
    reach_m = [max((cats[k].radius_m for k in r[3]), default=0.0) for r in rows]
    reach = reach_store(result, cid_index, pids, radii, reach_m)
    return {
        "pid": [str(table.pid_html(p)) for p in pids],
        "kind": [r[1] for r in rows],
        "card": [str(r[2]) for r in rows],
        "prog": [r[3] for r in rows],
        "geom": table.geometry(pids),
        "radii": radii,
        "reach": reach,
    }
