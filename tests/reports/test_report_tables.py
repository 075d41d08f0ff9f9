"""The report tables of the packs: typed, checked at load, and read as their clauses say."""

from __future__ import annotations

from typing import Any

import pytest

from policies.loader import load_policy
from policies.report_tables import (
    ReportTableError,
    check_report_tables,
    connection_time_targets,
    penalty_table,
)
from policies.schema import ResolvedPolicy


def test_shanghai_keeps_the_2020_targets_after_the_plan_ends() -> None:
    table = connection_time_targets(load_policy("shanghai"))
    assert table is not None and table.carry_forward
    assert {r.average_max for r in table.rows_for(2019)} == {160, 70, 15}
    assert {r.average_max for r in table.rows_for(2020)} == {150, 60, 10}
    assert {r.average_max for r in table.rows_for(2026)} == {150, 60, 10}
    assert table.rows_for(2018) == []


def test_yantai_targets_name_their_measure() -> None:
    table = connection_time_targets(load_policy("shandong/yantai"))
    assert table is not None and table.unit == "workday"
    lv, grid = table.rows
    assert (lv.measure, lv.average_max, lv.business_types) == (
        "connection_time",
        3,
        ["lv_small_micro", "lv_non_residential"],
    )
    assert (grid.measure, grid.monitor, grid.average_max) == ("monitor", "hv10.full_process", 6)
    assert table.source.file == "004_7b2ceeea3a571885.txt"


def test_huangchuan_penalty_rows_the_system_detects() -> None:
    table = penalty_table(load_policy("henan/xinyang/huangchuan"))
    assert table is not None
    detected = {r.no: (r.detect, r.amount, r.leadership, r.rest) for r in table.detected}
    assert detected == {
        "二.3": ("overdue_or_too_short", 30000, 10000, 20000),
        "二.4": ("late_appointment", 5000, 2000, 3000),
        "二.7": ("monitor_warning", 20000, 5000, 15000),
    }
    assert penalty_table(load_policy("henan/sanmenxia")) is None


def changed(unit: str, table: str, **fields: Any) -> ResolvedPolicy:
    policy = load_policy(unit)
    params = {**policy.params, table: {**policy.params[table], **fields}}
    return policy.model_copy(update={"params": params})


def first_row(unit: str, table: str, **fields: Any) -> ResolvedPolicy:
    rows = load_policy(unit).params[table]["rows"]
    return changed(unit, table, rows=[{**rows[0], **fields}, *rows[1:]])


@pytest.mark.parametrize(
    ("policy", "says"),
    [
        (lambda: first_row("henan/xinyang/huangchuan", "penalties", rest=1), r"leadership \+ rest"),
        (
            lambda: first_row("henan/xinyang/huangchuan", "penalties", detect="monitor_warning"),
            "lacks its field",
        ),
        (lambda: changed("henan/xinyang/huangchuan", "penalties", source=None), "params.penalties"),
        (
            lambda: first_row("shandong/yantai", "connection_time_targets", measure="monitor"),
            "monitor",
        ),
        (
            lambda: first_row(
                "shandong/yantai",
                "connection_time_targets",
                measure="monitor",
                monitor="hv10.accept",
            ),
            "not a whole-process rule",
        ),
        (
            lambda: first_row("shanghai", "connection_time_targets", business_types=["factory"]),
            "business_types",
        ),
    ],
)
def test_malformed_report_tables_are_refused(policy: Any, says: str) -> None:
    with pytest.raises(ReportTableError, match=says):
        check_report_tables(policy())
