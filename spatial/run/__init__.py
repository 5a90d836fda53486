"""The run: its stages, the pipeline (load → analyse → write), writing the outputs side by
side, the demo district, and the Python API (:mod:`spatial.run.api`).

``spatial.run`` is both this package and the API's ``spatial.run(project, out=...)``: calling
the package calls :func:`spatial.run.api.run` (an attribute ``spatial.run`` can hold only one
object, and importing any module of this package binds it to the package).
"""

import importlib
import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    """This package, callable as :func:`spatial.run.api.run`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return importlib.import_module("spatial.run.api").run(*args, **kwargs)  # on first call


sys.modules[__name__].__class__ = _CallablePackage
