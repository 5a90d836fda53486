"""Custom errors. Every user-facing problem is an ``InputError`` with a one-line message.

Exit codes of the command line: 0 done, 2 a ``LifecircleError`` (bad input, setting or
output folder: the message says what to fix), 3 an internal error (a bug: one line, and
``--debug`` shows the traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


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


class OutputError(LifecircleError):
    """The output folder cannot be written (not a folder, not writable, disk full)."""

    def __init__(self, message: str, *, path: object = None) -> None:
        text = f"{path}: {message}" if path else message
        super().__init__(" ".join(str(text).split()))


class DependencyError(LifecircleError):
    """An optional resource (network, font, browser) is missing."""


class InterruptedAfterWrite(KeyboardInterrupt):
    """Ctrl-C arrived while the finished outputs were being swapped in: they are complete."""


def _reason(exc: BaseException) -> str:
    """The first line of a third-party exception's text, for a one-line message."""
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}".strip()[:300]


#: Third-party exception types raised while reading an input file (imported lazily).
def _reading_errors() -> tuple[type[BaseException], ...]:
    import zipfile

    import pyogrio.errors
    import pyproj.exceptions

    return (
        OSError,
        UnicodeError,
        LookupError,
        ValueError,
        EOFError,
        RuntimeError,
        SyntaxError,
        zipfile.BadZipFile,
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyproj.exceptions.CRSError,
    )


@contextlib.contextmanager
def reading(path: object, what: str) -> Iterator[None]:
    """The one boundary where reading an input file fails: any third-party error becomes an
    :class:`InputError` naming the file and what it should be.

    Parameters
    ----------
    path : path-like
        The input file being read.
    what : str
        What the file is, e.g. ``"the communities layer"`` (used in the message).

    ``LifecircleError`` passes through unchanged; ``KeyboardInterrupt`` and internal
    bugs outside the block are not touched.
    """
    try:
        yield
    except LifecircleError:
        raise
    except _reading_errors() as exc:
        if isinstance(exc, LookupError) and "encoding" in str(exc):
            hint = 'unknown encoding; use encoding = "utf-8", "gbk" or "gb18030"'
        elif isinstance(exc, UnicodeError):
            hint = 'text is not in the expected encoding; set encoding = "gbk" or "utf-8"'
        elif isinstance(exc, OSError) and not isinstance(exc, ValueError):
            hint = "cannot be read; check that the file exists and is readable"
        else:
            hint = "cannot be read; check the file format and the project settings"
        raise InputError(f"{what}: {hint} ({_reason(exc)})", path=path) from exc
