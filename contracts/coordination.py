"""Coordination notices (协同通知) as the layers share them: a notice, what the issuing and
writing activities are asked, and the updates that issue and answer notices.

These travel through Temporal histories (activity inputs and results, update inputs, the
carried state): add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.organisation import DEPARTMENT_SCHEMA
from contracts.text import Note, ShortLine
from policies.notice_table import NoticeKind

#: `open`: waiting for the department's answer; `answered`: agreed; `rejected`: the department
#: refused it (back to the customer manager with its opinion); `withdrawn`: the application
#: was cancelled, the stage was skipped, or a new round replaced it.
NoticeState = Literal["open", "answered", "rejected", "withdrawn"]
NOTICE_STATES: tuple[str, ...] = ("open", "answered", "rejected", "withdrawn")
#: How far a notice has gone: a write never moves a notice back (open < the others).
STATE_RANK: dict[str, int] = {"open": 0, "answered": 1, "rejected": 1, "withdrawn": 1}
NoticeResult = Literal["agreed", "rejected"]


def notice_id(application_no: str, kind: str, department: str, round_no: int) -> str:
    """The notice's id: its idempotency key (application, kind, department, round)."""
    return f"{application_no}.{kind}.{department}.{round_no}"


class NoticeRecord(BaseModel):
    """A work item for one department about one application."""

    id: str
    application_no: str
    kind: NoticeKind
    department: str
    unit: str
    round: int = Field(ge=1)
    issued_at: datetime
    #: From the pack, on the application's calendar: the monitor's provincial due instant (its
    #: national one where the unit has no provincial limit).
    due_at: datetime | None = None
    state: NoticeState = "open"
    answered_at: datetime | None = None
    answered_by: str | None = None
    result: NoticeResult | None = None
    opinion: str | None = None
    #: Who issued it: `workflow` when the pack's table did, else the staff code.
    issued_by: str | None = None


class IssueNoticesRequest(BaseModel):
    """Staff issue notices by hand (the `issue_notices` update)."""

    model_config = ConfigDict(extra="forbid")

    kind: NoticeKind
    #: Checked where the notices are planned, so that a refusal names `departments` and every
    #: unknown code at once; the schema states the codes.
    departments: list[Annotated[ShortLine, DEPARTMENT_SCHEMA]] = Field(
        min_length=1, max_length=9, json_schema_extra={"uniqueItems": True}
    )
    by: ShortLine | None = None


class AnswerNoticeRequest(BaseModel):
    """A department's answer (the `answer_notice` update)."""

    model_config = ConfigDict(extra="forbid")

    notice_id: ShortLine
    result: NoticeResult
    opinion: Note | None = None
    by: ShortLine


class NoticeWrite(BaseModel):
    """What the coordination activities write: notices issued or changed, and whom to tell.

    `issued`: the coordinators of each notice's department get an SMS; `rejected`: the
    application's customer manager gets the department's opinion."""

    application_no: str
    unit: str
    customer_manager: str | None = None
    notices: list[NoticeRecord]
    tell: Literal["issued", "rejected", "none"] = "none"
    at: datetime
