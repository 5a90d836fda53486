"""lifecircle: old-community renovation planning on the 15-minute life circle.

The Python API, for notebooks (each name is imported on first use, so ``lifecircle --help`` and
``import spatial`` stay fast)::

    import spatial
    result = spatial.coverage(communities, facilities, streets)  # GeoDataFrames or files
    result.communities[["name", "gaps", "full_coverage"]]

Functions (:mod:`spatial.workflow.api`): :func:`load_project`, :func:`run`, :func:`read_network`,
:func:`coverage`, :func:`bundle`, :func:`sites`. Results: :class:`RunResult`,
:class:`CoverageResult`, :class:`BundlingResult`, :class:`SitingResult`, :class:`StreetNetwork`,
:class:`Project`. Errors: :class:`InputError` (also a ``ValueError``); data problems worked
around are :class:`LifecircleWarning` warnings.

Its folders are the layers of the run (core, text, config, inputs, network, analysis, outputs,
workflow, cli), described in the README's Development section; the import rule between them is the layer
contract in ``pyproject.toml`` (``lint-imports``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ imports them
    from spatial.analysis.coverage.measure import CoverageResult
    from spatial.analysis.result import BundlingResult, RunResult, SitingResult
    from spatial.config.schema import Project
    from spatial.core.errors import InputError, LifecircleError
    from spatial.network.graph import StreetNetwork
    from spatial.workflow.api import (
        LifecircleWarning,
        bundle,
        coverage,
        load_project,
        read_network,
        run,
        sites,
    )

__version__ = "0.1.0"

#: public name → the module that defines it (imported by :func:`__getattr__` on first use)
_EXPORTS: dict[str, str] = {
    "load_project": "spatial.workflow.api",
    "run": "spatial.workflow.api",
    "read_network": "spatial.workflow.api",
    "coverage": "spatial.workflow.api",
    "bundle": "spatial.workflow.api",
    "sites": "spatial.workflow.api",
    "LifecircleWarning": "spatial.workflow.api",
    "Project": "spatial.config.schema",
    "RunResult": "spatial.analysis.result",
    "BundlingResult": "spatial.analysis.result",
    "SitingResult": "spatial.analysis.result",
    "CoverageResult": "spatial.analysis.coverage.measure",
    "StreetNetwork": "spatial.network.graph",
    "InputError": "spatial.core.errors",
    "LifecircleError": "spatial.core.errors",
}

__all__ = [
    "BundlingResult",
    "CoverageResult",
    "InputError",
    "LifecircleError",
    "LifecircleWarning",
    "Project",
    "RunResult",
    "SitingResult",
    "StreetNetwork",
    "__version__",
    "bundle",
    "coverage",
    "load_project",
    "read_network",
    "run",
    "sites",
]


def __getattr__(name: str) -> Any:  # noqa: ANN401 - any of the public functions and classes
    """Import the public name ``name`` from its module on first use (PEP 562).

    Parameters
    ----------
    name : str
        One of ``__all__``.

    Returns
    -------
    Any
        The function or class.

    Raises
    ------
    AttributeError
        ``name`` is not public.
    """
    if name not in _EXPORTS:
        raise AttributeError(f"module 'spatial' has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names (``__all__``), for completion in notebooks.

    Returns
    -------
    list of str
    """
    return sorted(__all__)
