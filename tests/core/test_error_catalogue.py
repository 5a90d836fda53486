"""Errors, load notes and dropped-row reasons come from the one message catalogue (zh and en)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from spatial.core import errors
from spatial.core.errors import ConfigError, InputError, OutputError
from spatial.core.messages import labels, msg

PACKAGE = Path(__file__).parents[2] / "spatial"
ERROR_CLASSES = {"LifecircleError", "InputError", "ConfigError", "OutputError", "DependencyError"}
#: catalogue families used by errors, notes and dropped reasons
FAMILIES = ("err_", "drop_", "note_", "what_", "range_", "type_", "role_", "crs_hint")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _keys_of(node: ast.expr) -> list[str] | None:
    """The catalogue keys a first argument can take: a literal, or ``a if cond else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, other = _keys_of(node.body), _keys_of(node.orelse)
        return body + other if body is not None and other is not None else None
    return None


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _calls(names: set[str]) -> list[tuple[str, int, ast.Call]]:
    """Every call in ``spatial/`` of a function or method named in ``names``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and _name(node) in names:
                found.append((path.name, node.lineno, node))
    return found


@pytest.mark.slow
def test_every_raise_site_names_a_catalogue_key_not_a_sentence():
    zh, en = labels("zh"), labels("en")
    sites = _calls(ERROR_CLASSES)
    assert len(sites) > 90  # the scan sees the package's raise sites
    bad = []
    for file, line, call in sites:
        if (file, ast.unparse(call)) in _DYNAMIC_RAISES:
            continue
        keys = _keys_of(call.args[0]) if call.args else None
        if keys is None or not all(k.startswith("err_") and k in zh and k in en for k in keys):
            bad.append(f"{file}:{line} {ast.unparse(call)[:90]}")
    assert bad == [], "raise with a catalogue key (err_* in data/i18n.toml):\n" + "\n".join(bad)


#: the one raise whose key is chosen first (``errors.reading``: the err_read_* keys)
_DYNAMIC_RAISES = {("errors.py", "InputError(key, path=path, what=what, reason=_reason(exc))")}


def test_every_err_literal_in_the_package_is_in_the_catalogue():
    """Also covers keys chosen before the raise (``errors.reading``)."""
    zh, en = labels("zh"), labels("en")
    found = {
        (path.name, n.value)
        for path in sorted(PACKAGE.rglob("*.py"))
        for n in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("err_")
    }
    assert ("errors.py", "err_read_format") in found
    assert sorted(f"{f}: {k}" for f, k in found if k not in zh or k not in en) == []


@pytest.mark.slow
def test_every_note_drop_and_reading_names_a_catalogue_key():
    """Load notes (``report.note``), dropped-row reasons (``report.drop``: ``drop_<code>``),
    ``msg(...)`` and what ``errors.reading`` names are catalogue keys too."""
    zh, en = labels("zh"), labels("en")
    sites = _calls({"note", "msg", "drop", "reading"})
    bad = []
    for file, line, call in sites:
        name = _name(call)
        if name == "drop" and file not in ("load.py", "validate.py", "cleaning.py"):
            continue  # DataFrame.drop
        arg = call.args[1] if name == "reading" else call.args[0]
        if name == "reading" and isinstance(arg, ast.Call) and _name(arg) == "msg":
            continue  # checked as a msg(...) call
        keys = _keys_of(arg)
        if (file, ast.unparse(call)) in _DYNAMIC:
            continue
        prefix = "drop_" if name == "drop" else ""
        if keys is None or not all(prefix + k in zh and prefix + k in en for k in keys):
            bad.append(f"{file}:{line} {ast.unparse(call)[:90]}")
    assert len(sites) > 25 and bad == []


#: msg() calls whose key is computed; the keys they can take are checked below
_DYNAMIC = {
    ("checks.py", "msg(allowed)"),
    ("project.py", "msg(f'type_{name}')"),
    ("cleaning.py", "msg(f'layer_{report.layer}')"),
}


def test_every_layer_a_dropped_row_can_name_is_in_the_catalogue():
    """``cleaning.empty_geometry`` names its layer by ``layer_<name>`` (any layer the loader reads)."""
    zh, en = labels("zh"), labels("en")
    for layer in ("communities", "facilities", "parcels", "subdistricts", "gates"):
        assert f"layer_{layer}" in zh and f"layer_{layer}" in en


def test_every_allowed_range_of_a_setting_is_in_the_catalogue():
    """``checks._check_number`` rules name ``range_*`` keys; ``_type_name`` falls back to the
    Python name when a ``type_*`` key is missing."""
    zh, en = labels("zh"), labels("en")
    tree = ast.parse((PACKAGE / "config" / "checks.py").read_text("utf-8"))
    ranges = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith("range_")
    }
    assert len(ranges) >= 12 and all(k in zh and k in en for k in ranges)


def test_each_error_key_has_zh_and_en_with_the_same_fields():
    zh, en = labels("zh"), labels("en")
    ours = {k for k in set(zh) | set(en) if k.startswith(FAMILIES)}
    assert len([k for k in ours if k.startswith("err_")]) > 80
    missing = sorted(k for k in ours if k not in zh or k not in en)
    assert missing == []
    differ = {k: (_fields(zh[k]), _fields(en[k])) for k in ours if _fields(zh[k]) != _fields(en[k])}
    assert differ == {}
    ascii_only = sorted(k for k in ours if k.startswith("err_") and zh[k].isascii())
    assert ascii_only == []  # every Chinese error text has Chinese in it


def test_error_renders_in_either_language_on_one_line_with_the_path():
    exc = InputError(
        "err_not_number", path=Path("c.gpkg"), row=3, column="户数", value="约\n120", count=2
    )
    assert (
        exc.message("zh")
        == "c.gpkg: 第 3 行、列“户数”：“约 120”不是数字；请填写纯数字或留空（共 2 行如此）"
    )
    assert exc.message("en") == (
        "c.gpkg: row 3, column '户数': '约 120' is not a number; write a plain number or leave it "
        "empty (2 such rows)"
    )
    assert str(exc) == exc.message("en")  # str() is the English text (logs, tracebacks)
    assert (exc.key, exc.fields["row"]) == ("err_not_number", 3)
    assert isinstance(exc, errors.LifecircleError)


def test_a_field_may_be_a_catalogue_text_rendered_in_the_same_language():
    exc = ConfigError(
        "err_cfg_range", path="p.toml", label="[bundling] min_members", value="1",
        allowed=msg("range_min_members"),
    )  # fmt: skip
    assert exc.message("zh").endswith("应为不小于2的整数（一个片区至少包含两个小区）")
    assert exc.message("en").endswith("it must be a whole number of at least 2 (a bundle joins two or more communities)")  # fmt: skip


def test_an_english_sentence_is_refused_at_once():
    with pytest.raises(KeyError, match="missing from data/i18n.toml"):
        OutputError("cannot write the outputs")


def test_a_third_party_reason_stays_verbatim_inside_the_translated_frame(tmp_path):
    import pyogrio

    bad = tmp_path / "c.gpkg"
    bad.write_text("not a geopackage", "utf-8")
    with (
        pytest.raises(InputError) as caught,
        errors.reading(bad, msg("what_layer", section="communities")),
    ):
        pyogrio.read_dataframe(bad)
    zh, en = caught.value.message("zh"), caught.value.message("en")
    reason = en[en.index("(DataSourceError") + 1 : -1]
    assert reason.startswith("DataSourceError: ") and reason in zh
    assert zh.startswith(f"{bad}: communities 图层：无法读取；请检查文件格式和项目设置（")
    assert en.startswith(f"{bad}: the communities layer: cannot be read; check the file format")


def test_cli_prints_the_error_in_the_chosen_language(small_project, run_cli):
    small_project.write_text(
        small_project.read_text("utf-8") + "\n[bundling]\nmin_members = 1\n", "utf-8"
    )
    code, _, err = run_cli("check", "--config", small_project)
    assert code == 2
    assert err.strip() == (
        f"错误：{small_project}: [bundling] min_members = 1 不允许；"
        "应为不小于2的整数（一个片区至少包含两个小区）"
    )
    code, _, err = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2
    assert err.strip() == (
        f"error: {small_project}: [bundling] min_members = 1 is not allowed; it must be a whole "
        "number of at least 2 (a bundle joins two or more communities)"
    )


@pytest.mark.slow
def test_check_table_reasons_and_load_notes_follow_the_language(tmp_path, run_cli):
    code, _, _ = run_cli("demo", tmp_path / "d")
    assert code == 0
    code, out, _ = run_cli("check", "--config", tmp_path / "d")
    assert code == 0
    assert "类别不在标准表中: 3" in out and "12 个建成年代为约数（如 90年代）" in out
    assert "category not in" not in out and "approximate" not in out
    code, out, _ = run_cli("check", "--config", tmp_path / "d", "--lang", "en")
    assert "12 build years approximate (e.g. 90年代)" in out and "类别不在标准表中" not in out
