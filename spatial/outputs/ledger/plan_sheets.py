"""The ledger's sheets of the programme by year (年度计划): per year its compounds, bundles,
households, floor area and investment with the solver's label (and, when no programme meets the
rules, why); per compound its year or the reserve and the reason, under headers the plan stage
reads back (改造状态, 计划年度: ``data/standards/plan.toml``)."""

from __future__ import annotations

import pandas as pd

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.outputs.ledger.workbook import DECIMAL, INTEGER, PERCENT

_YEAR_COLUMNS = ("year", "compounds", "bundles", "households", "floor_area", "investment",
                 "priority", "cumulative_compounds")  # fmt: skip

#: with the site programme: the sites built in the year and full coverage after it
_COVERAGE_COLUMNS = {"sites": INTEGER, "full_coverage_households": PERCENT}


def _heads(lang: str) -> dict:
    return labels(lang)["ledger"]["plan"]


def year_sheet(result: RunResult, lang: str) -> pd.DataFrame:
    """Per year of the programme its figures; the note column says how it was solved and, for
    an infeasible programme, which deadline or cap fails by how much.

    Parameters
    ----------
    result : RunResult
        With ``plan`` and ``summary["plan"]``.
    lang : str

    Returns
    -------
    DataFrame
    """
    heads, block = _heads(lang), result.summary["plan"]
    grows = [c for c in _COVERAGE_COLUMNS if c in result.plan.years]
    frame = pd.DataFrame(result.plan.years)[[*_YEAR_COLUMNS, *grows]]
    notes = [_solver_note(lang, block), *_diagnosis_notes(lang, block)]
    if block["status"] == "infeasible":
        frame = frame.iloc[0:0]
    rows = max(len(frame), len(notes))
    frame = frame.reindex(range(rows))
    frame["note"] = notes + [""] * (rows - len(notes))
    out = frame.rename(columns={c: heads[c] for c in (*_YEAR_COLUMNS, *grows, "note")})
    out.attrs["formats"] = {heads[c]: INTEGER for c in _YEAR_COLUMNS if c != "year"} | {
        heads[c]: fmt for c, fmt in _COVERAGE_COLUMNS.items() if c in grows
    }
    return out


def _solver_note(lang: str, block: dict) -> str:
    solver = labels(lang)["ledger"]["plan"]["solver"]
    note = solver.format(
        method=text(lang, f"plan_method_{block['method']}"),
        status=text(lang, f"plan_status_{block['status']}"),
    )
    if block["status"] == "time_limit" and block["gap"] is not None:
        note += "; " + text(lang, "cli_plan_gap", gap=block["gap"]).strip()
    return note


def _diagnosis_notes(lang: str, block: dict) -> list[str]:
    found, due = block.get("diagnosis") or {}, block["deadlines"]
    notes = [
        text(lang, "cli_plan_fixed_over", year=o["year"], excess=o["excess"],
             figure=text(lang, f"plan_figure_{o['figure']}"))
        for o in found.get("fixed_over", [])
    ]  # fmt: skip
    if found.get("priority"):
        notes.append(text(lang, "cli_plan_missed_priority", by=due["priority_by"],
                          count=found["priority"]))  # fmt: skip
    if found.get("share"):
        notes.append(text(lang, "cli_plan_missed_share", by=due["share_by"], share=due["share"],
                          count=found["share"]))  # fmt: skip
    for figure, value in (found.get("caps") or {}).items():
        notes.append(text(lang, "cli_plan_cap_needed", value=value, cap=block["caps"][figure],
                          figure=text(lang, f"plan_figure_{figure}")))  # fmt: skip
    if found.get("proved") is False:
        notes.append(text(lang, "cli_plan_diagnosis_unproved"))
    return [n.strip() for n in notes]


def compound_sheet(result: RunResult, lang: str) -> pd.DataFrame:
    """Per eligible compound: id, name, bundle, tier, score, figures, plan year (empty in the
    reserve), status (已完成 / 在建 / 已列入计划 / 储备 / 未排定) and the reason in the reserve;
    in year order, the reserve last.

    Parameters
    ----------
    result : RunResult
    lang : str

    Returns
    -------
    DataFrame
    """
    cols = labels(lang)["ledger"]["columns"]
    heads = _heads(lang)
    plan = pd.DataFrame(result.plan.plan).drop(columns="geometry")
    plan = plan.sort_values(["year", "score"], ascending=[True, False], na_position="last")
    frame = pd.DataFrame(
        {
            cols["cid"]: plan["cid"],
            cols["name"]: plan["name"],
            cols["bundle_id"]: plan["bundle_id"],
            cols["tier"]: plan["tier"].map(labels(lang)["ledger"]["tiers"]),
            cols["score"]: plan["score"],
            heads["plan_year"]: plan["year"].astype("Float64"),
            heads["state"]: plan["state"].map(lambda s: text(lang, f"plan_state_{s}")),
            heads["reason"]: plan["reason"].map(
                lambda r: text(lang, f"plan_reason_{r}") if r else ""
            ),
            cols["households"]: plan["households"],
            cols["floor_area"]: plan["floor_area"],
            heads["investment"]: plan["investment"],
            cols["willingness"]: plan["willingness"],
        }
    )
    frame.attrs["formats"] = {
        heads["plan_year"]: "0",
        cols["households"]: INTEGER,
        cols["floor_area"]: INTEGER,
        heads["investment"]: DECIMAL,
        cols["willingness"]: PERCENT,
        cols["score"]: DECIMAL,
    }
    return frame.reset_index(drop=True)
