"""Coordination notices decided without Temporal: the pack's issuing table and its errors,
rounds (a live round takes departments, a closed one makes the next), agreement, answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts.coordination import NoticeRecord, notice_id
from domain.coordination import (
    check_answer,
    check_issue,
    open_departments,
    plan_issue,
    round_agreed,
)
from domain.ledger import ApplicationLedger
from domain.start import start_input
from policies.loader import load_policy
from policies.notice_table import NoticeTableError, check_notice_table, notice_rows
from tests.scenarios import TZ, application

T0 = datetime(2027, 9, 24, 10, tzinfo=TZ)
SOURCE = {"file": "000_1fb244cfb33f1f39.txt", "section": "附件4 附表 协同通知"}
GOOD_ROW = {
    "kind": "joint_survey",
    "business_types": ["hv"],
    "trigger": "accept.started",
    "departments": ["operations"],
    "source": SOURCE,
}


def henan_with_rows(rows: list[dict[str, Any]]) -> Any:
    """Sanmenxia's pack with these rows as its issuing table."""
    return load_policy("henan/sanmenxia").model_copy(
        update={"params": {"coordination_notices": {"source": SOURCE, "rows": rows}}}
    )


def n(dept: str, round_no: int = 1, state: str = "open", result: str | None = None) -> NoticeRecord:
    return NoticeRecord(
        id=notice_id("A1", "joint_survey", dept, round_no),
        application_no="A1",
        kind="joint_survey",
        department=dept,
        unit="henan/sanmenxia",
        round=round_no,
        issued_at=datetime(2027, 1, 1, tzinfo=UTC),
        state=state,  # type: ignore[arg-type]
        result=result,  # type: ignore[arg-type]
    )


def test_henan_issues_the_joint_survey_at_acceptance_to_three_departments() -> None:
    rows = {r.kind: r for r in notice_rows(load_policy("henan/sanmenxia"))}
    survey = rows["joint_survey"]
    assert (survey.trigger, survey.business_types) == ("accept.started", ["hv"])
    assert sorted(survey.departments) == ["development", "dispatch", "operations"]
    assert rows["joint_acceptance"].trigger == "completion_inspection.started"
    assert all(r.source.file for r in rows.values())
    # Units whose documents ask for no online notices issue none.
    assert notice_rows(load_policy("shanghai")) == []


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"departments": ["nobody"]}, "departments"),
        ({"trigger": "accept"}, "trigger"),
        ({"kind": "joint_picnic"}, "kind"),
        ({"business_types": ["hv", "spaceship"]}, "business_types"),
        ({"source": None}, "source"),
    ],
)
def test_a_bad_row_is_refused_naming_its_field(row: dict[str, Any], field: str) -> None:
    with pytest.raises(NoticeTableError, match=rf"rows\[0\]\S*{field}"):
        check_notice_table(henan_with_rows([GOOD_ROW | row]))


def test_a_kind_issued_twice_for_a_business_type_is_refused() -> None:
    bad = henan_with_rows([GOOD_ROW, GOOD_ROW])
    with pytest.raises(NoticeTableError, match=r"rows\[1\]\.kind"):
        check_notice_table(bad)


def test_a_live_round_takes_new_departments_and_a_closed_one_makes_the_next() -> None:
    live = [n("operations", state="answered", result="agreed"), n("dispatch")]
    assert plan_issue(live, "joint_survey", ["dispatch", "development"]) == (
        1,
        ["development"],
        [],
    )
    rejected = [n("operations"), n("development", state="rejected", result="rejected")]
    round_no, adding, stale = plan_issue(rejected, "joint_survey", ["development"])
    assert (round_no, adding, [s.department for s in stale]) == (2, ["development"], ["operations"])
    assert plan_issue([], "joint_survey", ["operations"]) == (1, ["operations"], [])


def test_a_round_is_agreed_when_every_department_agreed() -> None:
    agreed = n("operations", state="answered", result="agreed")
    assert not round_agreed([agreed, n("dispatch")])
    assert round_agreed([agreed, n("dispatch", state="withdrawn")])
    assert open_departments([agreed, n("dispatch")], "joint_survey") == ["dispatch"]


def test_answers_are_refused_naming_the_field() -> None:
    book = ApplicationLedger(start_input(application("A123", T0)), T0 + timedelta(hours=1))
    notices = [n("operations"), n("dispatch", state="answered", result="agreed")]
    ops, dsp = notices[0].id, notices[1].id
    closed = check_answer(book, notices, dsp, "agreed", None)
    assert closed is not None and (closed.type, closed.errors[0].field) == ("closed", "notice_id")
    missing = check_answer(book, notices, "A1.x.y.1", "agreed", None)
    assert missing is not None and missing.errors[0].field == "notice_id"
    bare = check_answer(book, notices, ops, "rejected", "  ")
    assert bare is not None and (bare.type, bare.errors[0].field) == ("invalid", "opinion")
    assert check_answer(book, notices, ops, "rejected", "缺少红线图") is None


@pytest.mark.parametrize(
    ("unit", "refused"),
    [("henan/xinyang/huangchuan", None), ("henan/sanmenxia", "kind")],
)
def test_protection_settings_are_issued_where_the_pack_times_them(
    unit: str, refused: str | None
) -> None:
    # 002 二(二)2(2): Huangchuan gives protection settings 3 working days; Sanmenxia no limit.
    book = ApplicationLedger(start_input(application("A123", T0, unit=unit)), T0)
    ev = book.peek(T0 + timedelta(hours=1))
    refusal = check_issue(book, ev, "protection_setting", ["dispatch"])
    assert (refusal.errors[0].field if refusal else None) == refused
