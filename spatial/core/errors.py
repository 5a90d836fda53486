"""Custom errors. Every user-facing problem is a ``LifecircleError`` with a one-line message.

An error carries a key of the message catalogue (``err_*`` in ``data/i18n.toml``) and the
fields of its text, never a sentence: ``InputError("err_file_not_found", path=p)``. The command
line renders it in the run's language with :meth:`LifecircleError.message` (``--lang``, else
the project's, else Chinese); ``str(exc)`` is the English text (logs, tracebacks, tests). Either
way it is one line, prefixed with the file it names. A third-party reason (e.g. pyogrio's text)
is a field and stays verbatim.

Exit codes of the command line: 0 done, 2 a ``LifecircleError`` (bad input, setting or
output folder: the message says what to fix), 3 an internal error (a bug: one line, and
``--debug`` shows the traceback), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from spatial.core.messages import Msg, labels, text, visible


class LifecircleError(Exception):
    """Base class for errors the command line reports without a traceback.

    Parameters
    ----------
    key : str
        Message id in ``data/i18n.toml`` (``err_*``), present in ``[zh]`` and ``[en]``.
    path : path-like, optional
        The file (or folder) the message is about; it prefixes the text.
    **fields
        Values for the text's placeholders (a :class:`~spatial.core.messages.Msg` is rendered in
        the same language).
    """

    def __init__(self, key: str, /, *, path: object = None, **fields: object) -> None:
        if not all(key in labels(lang) for lang in ("zh", "en")):
            raise KeyError(f"error message '{key}' is missing from data/i18n.toml [zh]/[en]")
        super().__init__(key)
        self.key, self.path, self.fields = key, path, fields
        self.layer = ""  # the project section whose file this is about (set by in_layer)

    def message(self, lang: str) -> str:
        """The one-line text in ``lang`` (``"zh"`` or ``"en"``), prefixed with the path (and the
        project section it was given in); a control or bidi character of a quoted value is shown
        as its escape (``\\x1b``)."""
        body = text(lang, self.key, **self.fields)
        where = f"{self.path} [{self.layer}]" if self.layer else self.path
        line = f"{where}: {body}" if self.path else body
        return visible(" ".join(str(line).split()))

    def __str__(self) -> str:
        return self.message("en")


class InputError(LifecircleError, ValueError):
    """Bad input: a file, row, column or setting that the planner must fix.

    The message names the file/row/column and what to do, on one line. It is also a
    ``ValueError``, as a Python caller of :mod:`spatial` expects for a bad argument.
    """


class ConfigError(InputError):
    """A problem in the project TOML file."""


class OutputError(LifecircleError):
    """The output folder cannot be written (not a folder, not writable, disk full)."""


class DependencyError(LifecircleError):
    """An optional resource (network, font, browser) is missing."""


class InterruptedAfterWrite(KeyboardInterrupt):
    """Ctrl-C arrived while the finished outputs were being swapped in: they are complete."""


class Cancelled(KeyboardInterrupt):
    """A run stopped on request — the app's Cancel (:class:`spatial.core.parallel.Cancel`) — or a
    forked worker's call stopped because its run is ending (:func:`spatial.core.parallel.started`).
    A ``KeyboardInterrupt``, so it leaves every stage the way Ctrl-C does: calls not started are
    cancelled, the workers are waited for, the staging folder is removed."""


@contextlib.contextmanager
def in_layer(section: str) -> Iterator[None]:
    """Tag an :class:`InputError` raised while one layer is read with its project section, so
    that a row error in a file given for the wrong layer says which layer it was read as
    (``communities.gpkg [parcels]: row 3 …``). Usable as a decorator.

    Parameters
    ----------
    section : str
        ``communities``, ``facilities``, ``parcels`` or ``subdistricts``.
    """
    try:
        yield
    except InputError as exc:
        if not exc.layer and "section" not in exc.fields and not isinstance(exc, ConfigError):
            exc.layer = section
        raise


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
def reading(path: object, what: str | Msg) -> Iterator[None]:
    """The one boundary where reading an input file fails: any third-party error becomes an
    :class:`InputError` naming the file and what it should be.

    Parameters
    ----------
    path : path-like
        The input file being read.
    what : str or Msg
        What the file is: a catalogue key such as ``"what_network"``, or a ``Msg`` with
        fields (``msg("what_layer", section="communities")``); used in the message.

    ``LifecircleError`` passes through unchanged; ``KeyboardInterrupt`` and internal
    bugs outside the block are not touched.
    """
    try:
        yield
    except LifecircleError:
        raise
    except _reading_errors() as exc:
        if isinstance(exc, LookupError) and "encoding" in str(exc):
            key = "err_read_encoding_unknown"
        elif isinstance(exc, UnicodeError):
            key = "err_read_encoding"
        elif isinstance(exc, OSError) and not isinstance(exc, ValueError):
            key = "err_read_unreadable"
        else:
            key = "err_read_format"
        what = what if isinstance(what, Msg) else Msg(what)
        raise InputError(key, path=path, what=what, reason=_reason(exc)) from exc
