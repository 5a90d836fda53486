"""Reading planners' files (GeoPackage, Shapefile, GeoJSON, CSV, XLSX) and writing outputs atomically."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .config import LayerConfig
from .errors import InputError, InterruptedAfterWrite, reading
from .parse import header_key

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}


def _shapefile_encoding(path: Path) -> str | None:
    """Encoding of a shapefile's .dbf: its .cpg when present, else UTF-8 if it decodes, else GB18030."""
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        return None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def read_vector(path: Path, cfg: LayerConfig) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio, handling GBK shapefiles and multi-layer files."""
    kwargs: dict[str, Any] = {}
    if cfg.layer:
        layers = [name for name, _ in pyogrio.list_layers(path)]
        if cfg.layer not in layers:
            raise InputError(
                "err_layer_not_found", path=path, layer=cfg.layer, layers=", ".join(layers)
            )
        kwargs["layer"] = cfg.layer
    encoding = cfg.encoding or (
        _shapefile_encoding(path) if path.suffix.lower() == ".shp" else None
    )
    if encoding:
        kwargs["encoding"] = encoding
    try:
        return gpd.read_file(path, engine="pyogrio", **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError("err_gis_read", path=path, reason=exc) from None
    except UnicodeDecodeError:
        raise InputError("err_text_encoding", path=path) from None


def read_table(path: Path, cfg: LayerConfig, aliases: dict | None = None) -> pd.DataFrame:
    """Read a CSV (UTF-8 or GBK/GB18030, detected) or XLSX sheet into a DataFrame of text/numbers.

    A 台账 often carries title rows above the header: the header row is ``cfg.header_row``
    (1-based) or else the first of the top rows whose cells match the most known column names
    (``aliases``: role → header names). A sheet that is not in the workbook is an error listing
    the sheets there are; without a sheet name, the sheet whose header matches best is read.
    """
    suffix = path.suffix.lower()
    header = _header_row(cfg, path)
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raw = _read_sheet(path, cfg, aliases or {})
        else:
            raw = _read_csv_rows(path, cfg)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError("err_table_read", path=path, reason=exc) from None
    return _with_header(raw, header, aliases or {}, path)


def _read_csv_rows(path: Path, cfg: LayerConfig) -> pd.DataFrame:
    """Every row of a CSV as data (no header yet); ragged title rows are padded."""
    for enc in [cfg.encoding] if cfg.encoding else ["utf-8-sig", "gb18030"]:
        try:
            try:
                return pd.read_csv(
                    path, encoding=enc, dtype=object, skipinitialspace=True, header=None
                )
            except pd.errors.ParserError:  # a title row with fewer cells than the table
                with path.open(encoding=enc, newline="") as handle:
                    rows = [[c.strip() or None for c in row] for row in csv.reader(handle)]
                width = max(map(len, rows), default=0)
                return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
        except UnicodeDecodeError:
            continue
    raise InputError("err_csv_encoding", path=path)


def _header_row(cfg: LayerConfig, path: Path) -> int | None:
    """``header_row`` as a 0-based row index (None when not set)."""
    if not str(cfg.header_row).strip():
        return None
    try:
        row = int(str(cfg.header_row).strip())
    except ValueError:
        row = 0
    if row < 1:
        raise InputError("err_header_row", path=path, value=cfg.header_row)
    return row - 1


def _read_sheet(path: Path, cfg: LayerConfig, aliases: dict) -> pd.DataFrame:
    with pd.ExcelFile(path) as book:
        sheets = [str(s) for s in book.sheet_names]
        if cfg.layer and cfg.layer not in sheets:
            raise InputError(
                "err_sheet_not_found", path=path, sheet=cfg.layer, sheets=", ".join(sheets)
            )
        if cfg.layer or len(sheets) == 1:
            raw = pd.read_excel(book, sheet_name=cfg.layer or 0, header=None, dtype=object)
            raw.attrs["sheet"] = cfg.layer or sheets[0]
            return raw
        parsed = {s: pd.read_excel(book, sheet_name=s, header=None, dtype=object) for s in sheets}
    hits = {s: _detect_header(raw, aliases)[1] for s, raw in parsed.items()}
    best = max(sheets, key=lambda s: hits[s])  # the first sheet on a tie
    raw = parsed[best]
    raw.attrs["sheet"] = best
    raw.attrs["sheets"] = sheets
    return raw


def _with_header(raw: pd.DataFrame, header: int | None, aliases: dict, path: Path) -> pd.DataFrame:
    """``raw`` rows below the header row, named by it (detected when ``header`` is None)."""
    if header is None:
        header = _detect_header(raw, aliases)[0]
    if header >= len(raw):
        raise InputError("err_header_below", path=path, row=header + 1, rows=len(raw))
    names = _unique([_cell_name(v, i) for i, v in enumerate(raw.iloc[header])])
    frame = raw.iloc[header + 1 :].set_axis(names, axis=1).dropna(how="all").reset_index(drop=True)
    frame = frame.loc[:, [not (n.startswith("Unnamed") and frame[n].isna().all()) for n in names]]
    frame.attrs = {**raw.attrs, "header_row": header + 1}
    return frame


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        out.append(f"{name}.{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    return out


def _cell_name(value: object, i: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"Unnamed: {i}"
    return str(value).strip()


def _detect_header(raw: pd.DataFrame, aliases: dict, look: int = 20) -> tuple[int, int]:
    """(index, matches) of the first of the top ``look`` rows with the most cells naming a known
    column."""
    known = {header_key(name) for names in aliases.values() for name in names}
    best, best_hits = 0, 0
    for i in range(min(look, len(raw))):
        hits = sum(header_key(v) in known for v in raw.iloc[i] if isinstance(v, str) and v.strip())
        if hits > best_hits:
            best, best_hits = i, hits
    return best, best_hits


def read_any(
    path: Path, cfg: LayerConfig, aliases: dict | None = None
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read a vector layer or a table, with clear errors for missing or unknown files."""
    if not path.exists():
        raise InputError("err_file_not_found", path=path)
    suffix = path.suffix.lower()
    with reading(path, "what_this_layer"):
        if suffix in TABLE_SUFFIXES:
            return read_table(path, cfg, aliases)
        return read_vector(path, cfg)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def write_json(target: Path, data: Any) -> Path:
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def write_gpkg(target: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage atomically (all or nothing)."""
    with atomic_path(target) as tmp:
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return target


# -- all-or-nothing outputs: a staging folder beside --out, swapped in at the end -------------

STAGING_PREFIX = ".lifecircle-staging-"
#: every file name the tool writes into ``--out`` (group maps are named in ``maps.CORE_GROUPS``)
OUTPUT_NAMES = (
    "lifecircle.gpkg",
    "summary.json",
    "ledger.xlsx",
    "overview.html",
    "overview.png",
    "overview.pdf",
    "elderly.html",
    "childcare.html",
    "clinics.html",
    "markets.html",
    "elderly.png",
    "childcare.png",
    "clinics.png",
    "markets.png",
)


def _anchor(out: Path) -> Path:
    """The nearest existing folder at or above ``out``'s parent (where the staging goes)."""
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove what a killed run of the tool left: staging folders beside ``out`` whose process is
    gone, and the hidden temporary files ``atomic_path`` makes (``.<stem>.<random><suffix>``) of
    the tool's own output names inside ``out``. Returns what was removed."""
    import re
    import shutil

    removed = []
    anchor = _anchor(out)
    for entry in anchor.glob(f"{STAGING_PREFIX}*"):
        match = re.fullmatch(rf"{re.escape(STAGING_PREFIX)}(\d+)-\w+", entry.name)
        if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    if out.is_dir():
        stems = "|".join(re.escape(Path(n).stem) for n in OUTPUT_NAMES)
        pattern = re.compile(rf"\.({stems})\.[a-z0-9_]{{8}}\.(gpkg|json|xlsx|html|png|pdf|toml)")
        for entry in out.iterdir():
            if pattern.fullmatch(entry.name) and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def check_output_folder(out: Path) -> None:
    """Fail at once (``OutputError``) when ``out`` is a file, or it or the folder it would be
    made in cannot be written; nothing is created or changed."""
    from .errors import OutputError

    if out.exists() and not out.is_dir():
        raise OutputError("err_out_is_file", path=out)
    for folder in (out, _anchor(out)) if out.exists() else (_anchor(out),):
        if not folder.is_dir():
            raise OutputError("err_out_not_folder", path=out, folder=folder)
        try:
            with tempfile.TemporaryFile(dir=folder, prefix=".lifecircle-probe-"):
                pass
        except OSError as exc:
            raise OutputError(
                "err_out_not_writable", path=out, folder=folder, reason=exc.strerror or exc
            ) from None


def previous_outputs(out: Path) -> list[str]:
    """The tool's own files in ``out`` from the last run: the names its ``summary.json`` lists
    that are output names of the tool (nothing else in the folder is ever touched)."""
    try:
        listed = json.loads((out / "summary.json").read_text("utf-8")).get("outputs", [])
    except (OSError, ValueError, AttributeError):
        listed = ["summary.json"] if (out / "summary.json").is_file() else []
    return [n for n in listed if n in OUTPUT_NAMES and (out / n).is_file()]


class Staging:
    """A run's outputs are written into a hidden staging folder beside ``out`` and moved into
    ``out`` together by :meth:`commit`; if anything fails before that (an error, Ctrl-C, a full
    disk), ``out`` is exactly as before and the staging folder is removed.

    Use as a context manager: ``with Staging(out) as stage: write into stage.path; stage.commit()``.
    """

    def __init__(self, out: Path) -> None:
        self.out = out

    def __enter__(self) -> Staging:
        import secrets

        clean_stale(self.out)
        name = f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.root = _anchor(self.out) / name
        self.root.mkdir()
        self.path = self.root / "new"
        self.path.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    def commit(self) -> list[Path]:
        """Replace the tool's previous files in ``out`` by the new set (renames on one file
        system; rolled back if one fails; Ctrl-C waits until the swap is done)."""
        import signal
        import threading

        interrupted: list[int] = []
        main = threading.current_thread() is threading.main_thread()
        old_handler = (
            signal.signal(signal.SIGINT, lambda *a: interrupted.append(1)) if main else None
        )
        try:
            files = self._swap()
        finally:
            if main:
                signal.signal(signal.SIGINT, old_handler)
        if interrupted:
            raise InterruptedAfterWrite()
        return files

    def _swap(self) -> list[Path]:
        new = sorted(p.name for p in self.path.iterdir())
        self.out.mkdir(parents=True, exist_ok=True)
        backup = self.root / "old"
        backup.mkdir()
        old = sorted(set(previous_outputs(self.out)) | {n for n in new if (self.out / n).is_file()})
        moved_old: list[str] = []
        moved_new: list[str] = []
        try:
            for name in old:
                os.replace(self.out / name, backup / name)
                moved_old.append(name)
            for name in new:
                os.replace(self.path / name, self.out / name)
                moved_new.append(name)
        except BaseException:
            for name in moved_new:
                with contextlib.suppress(OSError):
                    os.replace(self.out / name, self.path / name)
            for name in moved_old:
                with contextlib.suppress(OSError):
                    os.replace(backup / name, self.out / name)
            raise
        return [self.out / n for n in new]
