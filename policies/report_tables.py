"""The report tables of a pack, as typed values (pure: no I/O).

- `[params.connection_time_targets]`: average connection times a unit committed to, per class
  of application and year (Shanghai 001, Yantai 004). Reporting targets over many
  applications, not limits of one: the monitors hold those.
- `[params.penalties]`: amounts per event and how they are split (Huangchuan 002 附件2).

The loader runs `check_report_tables` on every unit, so a malformed table refuses its pack
instead of failing a report later.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.codes import BUSINESS_TYPES, FULL_PROCESS, STAGE_CODES, VOLTAGES
from policies.schema import Level, ResolvedPolicy, Source

TARGETS = "connection_time_targets"
PENALTIES = "penalties"


class ReportTableError(ValueError):
    pass


class TargetRow(BaseModel):
    """One target: the average of a measure over the applications of a class, in a year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    business_types: list[str] = Field(min_length=1)
    #: None: every voltage of those business types.
    voltages: list[str] | None = None
    #: The calendar year of the connection it applies to; None: every year.
    year: int | None = None
    average_max: float = Field(gt=0)
    #: `connection_time`: from acceptance to connection (holds included); `monitor`: the time
    #: a whole-process rule counts (its pauses and the customer's holds excluded).
    measure: Literal["connection_time", "monitor"] = "connection_time"
    monitor: str | None = None
    #: What the clause measures, in its own words.
    scope: str | None = None

    @model_validator(mode="after")
    def _codes(self) -> TargetRow:
        unknown = sorted(set(self.business_types) - BUSINESS_TYPES)
        if unknown:
            raise ValueError(f"business_types: unknown {unknown}")
        if self.voltages is not None and set(self.voltages) - VOLTAGES:
            raise ValueError(f"voltages: unknown {sorted(set(self.voltages) - VOLTAGES)}")
        if (self.measure == "monitor") != (self.monitor is not None):
            raise ValueError("monitor: give it exactly when measure is 'monitor'")
        return self


class ConnectionTimeTargets(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    metric: Literal["average_connection_time"]
    unit: Literal["day", "workday"]
    #: The last stated year's targets stay in force for the years after it.
    carry_forward: bool = False
    after_last_year: str | None = None
    rows: list[TargetRow] = Field(min_length=1)

    def rows_for(self, year: int) -> list[TargetRow]:
        """The rows in force for connections in `year`."""
        years = sorted({r.year for r in self.rows if r.year is not None})
        wanted: int | None = year
        if year not in years:
            later = [y for y in years if y < year]
            wanted = later[-1] if self.carry_forward and later else None
        return [r for r in self.rows if r.year is None or r.year == wanted]


Detect = Literal["overdue_or_too_short", "late_appointment", "monitor_warning"]


class PenaltyRow(BaseModel):
    """A row of the penalty table. `detect` says how the system finds its events; rows without
    one (complaints, exams, outages) are events the system does not record. Amounts in the
    table's currency per event (件); `leadership` and `rest` split `amount`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    no: str = Field(min_length=1)
    event: str = Field(min_length=1)
    label: str = Field(min_length=1)
    line: int | None = None
    amount: float | None = None
    leadership: float | None = None
    rest: float | None = None
    detect: Detect | None = None
    #: overdue_or_too_short: the warning levels that make an order overdue, and the business
    #: types whose too-short orders count.
    levels: list[Level] | None = None
    too_short_business_types: list[str] | None = None
    #: late_appointment: the stage whose confirmation came late.
    stage: str | None = None
    #: monitor_warning: the rule whose warning marks the event.
    monitor: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PenaltyRow:
        if None not in (self.amount, self.leadership, self.rest):
            assert self.leadership is not None and self.rest is not None
            if abs(self.leadership + self.rest - (self.amount or 0)) > 1e-6:
                raise ValueError(f"row {self.no}: leadership + rest must make the amount")
        needs = {
            "overdue_or_too_short": self.levels,
            "late_appointment": self.stage,
            "monitor_warning": self.monitor,
        }
        if self.detect is not None and (needs[self.detect] is None or self.amount is None):
            raise ValueError(f"row {self.no}: detect {self.detect} lacks its field or amount")
        if self.stage is not None and self.stage not in STAGE_CODES:
            raise ValueError(f"row {self.no}: unknown stage {self.stage!r}")
        return self


class PenaltyTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    currency: str = Field(min_length=3, max_length=3)
    #: Events before this day are not fined.
    effective_from: date | None = None
    rows: list[PenaltyRow] = Field(min_length=1)

    @property
    def detected(self) -> list[PenaltyRow]:
        return [r for r in self.rows if r.detect is not None]


def connection_time_targets(policy: ResolvedPolicy) -> ConnectionTimeTargets | None:
    data = policy.params.get(TARGETS)
    return None if data is None else ConnectionTimeTargets.model_validate(data)


def penalty_table(policy: ResolvedPolicy) -> PenaltyTable | None:
    data = policy.params.get(PENALTIES)
    return None if data is None else PenaltyTable.model_validate(data)


def check_report_tables(policy: ResolvedPolicy) -> None:
    """Refuse (ReportTableError, naming the table) a malformed report table, or one naming a
    rule the policy lacks."""
    try:
        targets = connection_time_targets(policy)
        penalties = penalty_table(policy)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        table = TARGETS if exc.title == ConnectionTimeTargets.__name__ else PENALTIES
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ReportTableError(f"params.{table}.{where}: {msg}") from None
    monitors = {m.id: m for m in policy.monitors}
    for row in targets.rows if targets else []:
        rule = monitors.get(row.monitor) if row.monitor else None
        if row.monitor is not None and (rule is None or rule.code != FULL_PROCESS):
            raise ReportTableError(
                f"params.{TARGETS}.rows: {row.monitor!r} is not a whole-process rule of the unit"
            )
        limit = rule.provincial or rule.national if rule is not None else None
        if (
            targets is not None
            and limit is not None
            and limit.working != (targets.unit == "workday")
        ):
            raise ReportTableError(
                f"params.{TARGETS}.rows: {row.monitor!r} counts on another clock "
                f"than {targets.unit}"
            )
    for prow in penalties.rows if penalties else []:
        if prow.monitor is not None and prow.monitor not in monitors:
            raise ReportTableError(f"params.{PENALTIES}.rows: no rule {prow.monitor!r}")
