"""What the planner plans: the eligible compounds sorted into fixed work (已完成 / 在建), the
reserve before any solve (willingness gate, an unknown figure under a cap) and the items to
place in years — a bundle's plannable members together, or one compound alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: the figures a cap can limit, by ``[plan]`` key: (compound column, summary key)
MEASURES = {
    "max_households": "households",
    "max_floor_area": "floor_area",
    "max_compounds": "compounds",
    "max_investment": "investment",
}


@dataclass
class Items:
    """The items the model places.

    Attributes
    ----------
    members : list of ndarray
        Row positions (in the compounds frame) of each item's compounds.
    weight : dict of str to ndarray
        Per item, its total of each capped figure (``MEASURES`` values).
    value : ndarray
        Per item, Σ over members of (score + 1) × max(households, 1): the objective's weight.
    compounds : ndarray
        Per item, its number of compounds.
    priority : ndarray
        Per item, its number of priority-tier compounds.
    bundled : ndarray of bool
        Whether the item is (part of) a bundle.
    """

    members: list[np.ndarray]
    weight: dict[str, np.ndarray]
    value: np.ndarray
    compounds: np.ndarray
    priority: np.ndarray
    bundled: np.ndarray

    def __len__(self) -> int:
        return len(self.members)


def figures(comp: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per compound, the figures a cap may limit (NaN where unknown).

    Parameters
    ----------
    comp : DataFrame
        With ``households``, ``floor_area``, ``investment``.

    Returns
    -------
    dict of str to ndarray
    """
    return {
        "households": comp["households"].to_numpy(float),
        "floor_area": comp["floor_area"].to_numpy(float),
        "compounds": np.ones(len(comp)),
        "investment": comp["investment"].to_numpy(float),
    }


def presorted(comp: pd.DataFrame, caps: dict[str, float], gate: float | None) -> pd.Series:
    """Each compound's state before the solve: ``done`` / ``started`` (fixed), a reserve reason
    (``willingness_low``, ``willingness_unknown``, ``unknown_<figure>``), or ``""`` (to plan).

    Parameters
    ----------
    comp : DataFrame
        With ``status`` (``done``, ``started`` or ``""``), ``willingness`` and the figures.
    caps : dict of str to float
        The caps in force by figure (``MEASURES`` values).
    gate : float or None
        The willingness gate; None when the data has no willingness column.

    Returns
    -------
    Series of str
    """
    state = pd.Series("", index=comp.index, dtype=object)
    figs = figures(comp)
    for name in caps:
        state[np.isnan(figs[name])] = f"unknown_{name}"
    if gate is not None:
        will = comp["willingness"].to_numpy(float)
        state[np.isnan(will)] = "willingness_unknown"
        state[will < gate - 1e-12] = "willingness_low"
    status = comp["status"].to_numpy(object)
    state[status == "started"] = "started"
    state[status == "done"] = "done"
    return state


def build_items(comp: pd.DataFrame, open_rows: np.ndarray, split: bool) -> Items:
    """The items of the compounds at ``open_rows``: a bundle's members together (unless
    ``split``), every other compound alone; in row order of their first member.

    Parameters
    ----------
    comp : DataFrame
        With ``bundle_id``, ``tier``, ``score`` and the figures.
    open_rows : ndarray of int
        Positions of the compounds to plan.
    split : bool
        ``[plan] split_bundles``: every compound is its own item.

    Returns
    -------
    Items
    """
    bundle = comp["bundle_id"].astype("string").fillna("").to_numpy(str)
    groups: dict[str, list[int]] = {}
    for row in open_rows:
        key = bundle[row] if bundle[row] and not split else f"#{row}"
        groups.setdefault(key, []).append(int(row))
    members = [np.array(g, int) for g in groups.values()]
    figs = figures(comp)
    hh = np.nan_to_num(figs["households"])
    each = (comp["score"].fillna(0).to_numpy(float) + 1.0) * np.maximum(hh, 1.0)
    prio = (comp["tier"].astype(str) == "priority").to_numpy(bool)
    return Items(
        members=members,
        weight={k: np.array([np.nansum(v[m]) for m in members]) for k, v in figs.items()},
        value=np.array([each[m].sum() for m in members]),
        compounds=np.array([len(m) for m in members], float),
        priority=np.array([prio[m].sum() for m in members], float),
        bundled=np.array([bool(bundle[m[0]]) for m in members], bool),
    )
