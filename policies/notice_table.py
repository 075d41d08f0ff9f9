"""The pack's issuing table for coordination notices (协同通知), as typed values (pure: no I/O).

`[params.coordination_notices]` lists, one row each, which notice the workflow issues for which
business types, at which event, to which departments, and the clause that says so:

    rows = [
      { kind = "joint_survey", business_types = ["hv"], trigger = "accept.started",
        departments = ["operations", "dispatch", "development"],
        source = { file = ..., section = ... } },
    ]

The notice's clock is its monitor's (the monitor of the kind's code), so a row without a limit
in the pack issues nothing. The loader runs `check_notice_table` on every unit: a malformed row
refuses its pack, naming the row and the field.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.codes import BUSINESS_TYPES, DEPARTMENTS, EVENT_SUFFIXES, STAGE_ORDER
from policies.schema import ResolvedPolicy, Source

TABLE = "coordination_notices"

#: The kinds of notice: the four 协同通知 and the internal work items the documents want handled
#: online (000 正文 优化线上协同模式).
NoticeKind = Literal[
    "joint_survey",
    "joint_drawing_review",
    "joint_mid_inspection",
    "joint_acceptance",
    "protection_setting",
    "dispatch_agreement",
    "grid_works",
    "outage_plan",
]
NOTICE_KINDS: tuple[str, ...] = get_args(NoticeKind)


class NoticeTableError(ValueError):
    pass


class NoticeRow(BaseModel):
    """One row: notices of `kind` for applications of `business_types`, issued when `trigger`
    is recorded (`accept.started`: at acceptance), one per department."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NoticeKind
    business_types: list[str] = Field(min_length=1)
    trigger: str = Field(min_length=1)
    departments: list[str] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _codes(self) -> NoticeRow:
        unknown = sorted(set(self.business_types) - BUSINESS_TYPES)
        if unknown:
            raise ValueError(f"business_types: unknown {unknown}")
        bad = sorted(set(self.departments) - DEPARTMENTS)
        if bad:
            raise ValueError(f"departments: unknown {bad}; allowed: {sorted(DEPARTMENTS)}")
        if len(set(self.departments)) != len(self.departments):
            raise ValueError("departments: a department is listed twice")
        code, _, suffix = self.trigger.rpartition(".")
        if code not in STAGE_ORDER or suffix not in EVENT_SUFFIXES:
            raise ValueError(
                f"trigger: {self.trigger!r} is not <stage>.started or <stage>.completed"
            )
        return self


def notice_rows(policy: ResolvedPolicy) -> list[NoticeRow]:
    """The unit's issuing rows; none when its packs have no table."""
    table = policy.params.get(TABLE)
    if table is None:
        return []
    rows = table.get("rows")
    if not isinstance(rows, list):
        raise NoticeTableError(f"params.{TABLE}.rows: a list of rows is required")
    out: list[NoticeRow] = []
    for i, raw in enumerate(rows):
        try:
            out.append(NoticeRow.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            if not loc:
                # A check across fields names its field first ("departments: ...").
                loc, _, msg = msg.partition(": ")
            raise NoticeTableError(f"params.{TABLE}.rows[{i}].{loc}: {msg}") from None
    return out


def check_notice_table(policy: ResolvedPolicy) -> None:
    """Refuse a malformed table (NoticeTableError naming the row and the field), and a kind
    issued twice by the same event for the same business type."""
    seen: set[tuple[str, str]] = set()
    for i, row in enumerate(notice_rows(policy)):
        for bt in row.business_types:
            if (row.kind, bt) in seen:
                raise NoticeTableError(
                    f"params.{TABLE}.rows[{i}].kind: {row.kind!r} is already issued for {bt!r}"
                )
            seen.add((row.kind, bt))
