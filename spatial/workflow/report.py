"""The ``check`` report as records: what ``lifecircle check`` prints and the app's check page
shows, computed once here (:func:`check_report`); the terminal and the page only render them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spatial.analysis.capacity.demand import default_demand
from spatial.config.indicators import load_capacity
from spatial.core.crs import describe
from spatial.core.messages import labels, text
from spatial.core.problems import Problem

if TYPE_CHECKING:
    from spatial.analysis.result import RunResult

#: the columns of the check table, in order (``cli_col_<name>`` in the catalogue)
CHECK_COLUMNS = ("layer", "rows", "kept", "crs", "repaired", "dropped")


def layer_name(lang: str, layer: str) -> str:
    """A layer's name in ``lang`` (``layer_<name>`` in the catalogue), else its key."""
    return labels(lang).get(f"layer_{layer}", layer)


def check_report(result: RunResult, lang: str) -> dict[str, Any]:
    """What ``check`` read, as plain records in ``lang`` (texts, never markup).

    Parameters
    ----------
    result : RunResult
        ``pipeline.load_inputs``'s result (the layers and the network).
    lang : str
        ``zh`` or ``en``.

    Returns
    -------
    dict
        ``name``; ``rows`` (one tuple per layer, :data:`CHECK_COLUMNS`); ``layers`` (``key``,
        ``name``, ``path``, ``columns`` role → column, ``notes``); ``crs`` (the analysis CRS);
        ``network`` (its figures, or None); ``warnings`` (``summary.json`` problem records:
        the data problems of the load and what ``run`` will say before analysing,
        :func:`unanalysed_problems`).
    """
    layers = result.layers
    rows, details = [], []
    for r in layers.reports:
        dropped = "; ".join(f"{text(lang, f'drop_{k}')}: {v}" for k, v in r.dropped.items())
        name = layer_name(lang, r.layer)
        rows.append(
            (name, r.rows_read, r.rows_kept, r.crs.split(" ")[0], r.repaired, dropped or "-")
        )
        details.append(
            {
                "key": r.layer,
                "name": name,
                "path": r.path,
                "columns": dict(r.columns),
                "notes": [n.render(lang) for n in r.notes],
            }
        )
    net = result.network
    network = None
    if net is not None:
        network = {
            "nodes": net.n_nodes,
            "edges": len(net.edges),
            "dropped": net.dropped_nodes,
            "share": f"{net.largest_share:.1%}",
            "source": net.source,
        }
    return {
        "name": result.project.name,
        "rows": rows,
        "layers": details,
        "crs": describe(layers.crs),
        "network": network,
        "warnings": [
            p.record(lang) for p in [*getattr(layers, "problems", []), *unanalysed_problems(result)]
        ],
    }


def unanalysed_problems(result: RunResult) -> list[Problem]:
    """The warnings of ``run`` that the inputs alone decide: demand estimated with the census
    defaults (``demand_defaults``, :func:`spatial.analysis.capacity.demand.default_demand`, the
    same test the capacity stage makes), so that ``check`` says them before any analysis.

    Parameters
    ----------
    result : RunResult
        ``pipeline.load_inputs``'s result.

    Returns
    -------
    list of Problem
    """
    capacity = load_capacity(result.project, result.standards)
    found = default_demand(result.communities, capacity)
    return [] if found is None else [found]
