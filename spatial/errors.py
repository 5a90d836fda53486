"""Custom errors. Every user-facing problem is an ``InputError`` with a one-line message."""

from __future__ import annotations


class LifecircleError(Exception):
    """Base class for errors the command line reports without a traceback."""


class InputError(LifecircleError):
    """Bad input: a file, row, column or setting that the planner must fix.

    The message names the file/row/column and what to do, on one line.
    """

    def __init__(self, message: str, *, path: object = None) -> None:
        text = f"{path}: {message}" if path else message
        super().__init__(" ".join(str(text).split()))


class ConfigError(InputError):
    """A problem in the project TOML file."""


class DependencyError(LifecircleError):
    """An optional resource (network, font, browser) is missing."""
