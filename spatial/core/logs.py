"""Library loggers a planner should not read: the command line and the batch's worker tasks set
them to ERROR (importing :mod:`spatial` in a notebook leaves the user's logging alone)."""

from __future__ import annotations

import logging

#: libraries' loggers whose chatter a planner should not read
QUIET_LOGGERS = (
    "fontTools",  # font subsetting while the print pack is written
    "fpdf",
    "matplotlib.font_manager",  # a bold face falling back to the regular one
)


def quiet_libraries() -> None:
    """Set the :data:`QUIET_LOGGERS` to ERROR (a command's choice, not the package's): the CLI's
    process and each process a batch's project runs in (Dask workers are processes of their own
    and do not inherit the CLI's logging settings)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
