"""Coordination notices (协同通知): issue them by hand, the departments' inbox, their answers,
and who holds things up.

Notices are read from the read model (readmodel.coordination). Issuing and answering go to the
application's workflow as its `issue_notices` and `answer_notice` updates (it holds the notices,
records the stage events and writes the rows), then to the audit trail. A coordinator answers
only their own department's notices (core.access.answers_for).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.audit import audit
from api.auth import ActorDep, CurrentUser, UnitScope, require
from api.deps import EngineDep, TemporalDep
from api.problems import problems
from api.routes.applications import update_application
from api.scope import WRITABLE
from contracts.application import APPLICATION_NO_PATTERN
from contracts.coordination import (
    AnswerNoticeRequest,
    IssueNoticesRequest,
    NoticeRecord,
    NoticeResult,
)
from contracts.text import Note, ShortLine
from core.access import answers_for
from policies.notice_table import NoticeKind
from readmodel.coordination import NoticePublic, get_notice, list_notices, summary
from workflows.connection_application import ConnectionApplication

router = APIRouter(prefix="/api", tags=["notices"])
READ = [require("notices.read")]
#: The summary's answer times: the last quarter's, what a department does now.
ANSWER_WINDOW = timedelta(days=90)

NoticeId = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,199}$", description="The notice's id"),
]
ApplicationNo = Annotated[
    str, Path(pattern=APPLICATION_NO_PATTERN, description="The application's number")
]
Department = Annotated[
    str | None, Query(pattern=r"^[a-z_]{2,32}$", description="A department code (glossary)")
]
StateFilter = Literal["open", "answered", "rejected", "withdrawn"]
ApplicationFilter = Annotated[str | None, Query(pattern=APPLICATION_NO_PATTERN)]


class IssueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: NoticeKind
    departments: list[ShortLine] = Field(min_length=1, max_length=9)


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: NoticeResult
    opinion: Note | None = None
    #: Who answers for the department; the signed-in member by default.
    by: ShortLine | None = None


class NoticePage(BaseModel):
    items: list[NoticePublic]


class DepartmentSummary(BaseModel):
    department: str
    open: int
    due_soon: int
    overdue: int
    answered: int
    average_answer_hours: float | None


class NoticeSummary(BaseModel):
    as_of: datetime
    departments: list[DepartmentSummary]


@router.post(
    "/applications/{application_no}/notices",
    dependencies=[require("applications.record"), WRITABLE],
    response_model=list[NoticeRecord],
    responses=problems(404, 409, 422, 503),
)
async def issue_notices(
    application_no: ApplicationNo,
    body: IssueBody,
    temporal: TemporalDep,
    engine: EngineDep,
    who: ActorDep,
) -> list[NoticeRecord]:
    """Issue a notice to departments by hand: the kind's open round takes them (a department
    already in it is not asked twice); after a rejection, a new round with a fresh clock."""
    req = IssueNoticesRequest(kind=body.kind, departments=body.departments, by=who.code)
    records: list[NoticeRecord] = await update_application(
        temporal, application_no, ConnectionApplication.issue_notices, req
    )
    detail = {"kind": body.kind, "departments": ",".join(body.departments)}
    audit(engine, who, "notice.issue", application_no, detail=detail)
    return records


@router.get("/notices", dependencies=READ, response_model=NoticePage, responses=problems(404, 422))
def inbox(
    engine: EngineDep,
    unit: UnitScope,
    department: Department = None,
    state: StateFilter | None = None,
    application: ApplicationFilter = None,
) -> NoticePage:
    """The notices of a unit and the units under it (the caller's own by default), open ones
    first and soonest due first, with the level their monitor has reached."""
    found = list_notices(
        engine, unit=unit, department=department, state=state, application=application
    )
    return NoticePage(items=found)


@router.get(
    "/notices/summary",
    dependencies=READ,
    response_model=NoticeSummary,
    responses=problems(404, 422),
)
def notices_summary(engine: EngineDep, unit: UnitScope) -> NoticeSummary:
    """Who holds things up: per department, the notices open, due soon (their blue warning
    raised), overdue, and those answered in the last 90 days with their average time to
    answer."""
    now = datetime.now(UTC)
    rows = summary(engine, unit, now, ANSWER_WINDOW)
    return NoticeSummary(as_of=now, departments=[DepartmentSummary(**r) for r in rows])


@router.post(
    "/notices/{notice_id}/answer",
    dependencies=[require("notices.answer")],
    response_model=NoticeRecord,
    responses=problems(403, 404, 409, 422, 503),
)
async def answer_notice(
    notice_id: NoticeId,
    body: AnswerBody,
    user: CurrentUser,
    temporal: TemporalDep,
    engine: EngineDep,
    who: ActorDep,
) -> NoticeRecord:
    """A department's answer: `agreed`, or `rejected` with its opinion (back to the customer
    manager). Once every department of the round agreed, the notice's monitor stops."""
    row = get_notice(engine, notice_id)
    if row is None or not user.sees(row.unit):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={"field": "notice_id", "reason": f"no notice {notice_id}"},
        )
    if not answers_for(user, row.department):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "type": "forbidden",
                "field": "department",
                "reason": "a coordinator answers only their own department's notices",
            },
        )
    if row.state != "open":
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"type": "closed", "field": "notice_id", "reason": f"the notice is {row.state}"},
        )
    if body.result == "rejected" and not (body.opinion or "").strip():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "opinion", "reason": "a rejection gives the department's opinion"},
        )
    req = AnswerNoticeRequest(
        notice_id=notice_id, result=body.result, opinion=body.opinion, by=body.by or who.code
    )
    record: NoticeRecord = await update_application(
        temporal, row.application_no, ConnectionApplication.answer_notice, req
    )
    detail = {"result": body.result, "department": row.department}
    audit(engine, who, "notice.answer", row.application_no, target=notice_id, detail=detail)
    return record
