"""Warnings and progress messages to people: recipients, the SMS outbox, send windows (issue 6).

- `enqueue_warning` resolves a raised warning's roles to staff (walking up the unit tree),
  renders the Chinese message and inserts one outbox row per phone, due in the policy's next
  send window; roles nobody holds are recorded as undeliverable.
- `enqueue_progress` does the same for a customer progress message (办电进程主动推送).
- `dispatch_due` (called by the SmsDispatcher workflow) sends the rows whose window is open and
  answers when the dispatcher must wake next, from the business calendar.

Exactly once: the outbox's unique key (application, monitor, level, phone) makes every enqueue
idempotent; a row is marked sent in its own commit right after the gateway accepts it, and the
gateway receives a stable message id, so a resend after a crash in between is dropped there.
Clock: every instant comes from the caller (the warning's raised_at, the dispatcher's
workflow.now()), never from the wall clock, so time-skipped workflows and replays agree.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Engine, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from temporalio import activity

from activities.gateways import Gateway, SendResult, SmsMessage, gateway_from_settings
from calendars import Calendar, get_calendar
from contracts.application import ProgressNotice, WarningNotice
from contracts.organisation import DEPARTMENT_ROLES, mask_phone, normalize_mobile, unit_chain
from core.config import Settings
from policies.codes import ROLES
from policies.loader import list_units, load_policy
from policies.params import warning_notifications
from policies.schema import ResolvedPolicy
from readmodel.organisation import StaffRow
from readmodel.outbox import OutboxBase, OutboxRow, UndeliverableRow

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- send windows

#: Used when a unit's policy has no SMS table (only the Henan document states one; it is the
#: only evidence of practice we have, so it is the default everywhere).
DEFAULT_SEND_TIMES = ("08:30", "11:30", "15:30")
DEFAULT_WINDOW_MINUTES = 30
DEFAULT_APPOINTMENT_TIMES = ("10:30", "16:30")

WindowKind = str  # "warning" | "appointment" | "progress"


@dataclass(frozen=True)
class WindowSpec:
    """When messages of one kind may leave: windows starting at `starts` (local times),
    `minutes` long, on working days only or every day."""

    kind: WindowKind
    starts: tuple[time, ...]
    minutes: int
    workdays_only: bool
    tz: str
    source: str = ""


def _hhmm(s: str) -> time:
    h, m = s.split(":")
    return time(int(h), int(m))


def window_spec(policy: ResolvedPolicy, kind: WindowKind, progress_hours: str) -> WindowSpec:
    """The policy's windows for warnings, appointment warnings or progress messages."""
    tz = policy.settings.timezone
    if kind == "progress":
        a, b = progress_hours.split("-")
        start, end = _hhmm(a), _hhmm(b)
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if minutes <= 0:
            raise ValueError("SMS_PROGRESS_HOURS: the end must come after the start (08:00-20:00)")
        return WindowSpec("progress", (start,), minutes, False, tz, "settings.sms_progress_hours")
    table = warning_notifications(policy)
    value = table.value if table else {}
    minutes = int(value.get("sms_send_window_minutes", DEFAULT_WINDOW_MINUTES))
    workdays_only = value.get("sms_send_days", "workday") == "workday"
    source = table.source if table else "default (no SMS table in the unit's policy)"
    if kind == "appointment":
        appointment = policy.params.get("appointment", {})
        times = appointment.get("online_check_times", DEFAULT_APPOINTMENT_TIMES)
    else:
        times = value.get("sms_send_times", DEFAULT_SEND_TIMES)
    return WindowSpec(
        kind, tuple(sorted(_hhmm(t) for t in times)), minutes, workdays_only, tz, source
    )


def next_window(
    at: datetime, spec: WindowSpec, calendar: Calendar, *, join_open: bool = False
) -> tuple[datetime, datetime]:
    """The first window starting at or after `at`: (start, end) in UTC.

    With `join_open`, a window already open at `at` counts, from `at` on: used for progress
    messages (sent as soon as the hours allow) and for rows that missed their own window. A
    warning itself waits for the next window start: a window sends what was raised before it.
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    tz = ZoneInfo(spec.tz)
    day = at.astimezone(tz).date() - timedelta(days=1)  # yesterday: a window may span midnight
    for _ in range(800):  # two years of consecutive rest days would be a data error
        if not spec.workdays_only or calendar.is_workday(day):
            for t in spec.starts:
                start = datetime.combine(day, t, tzinfo=tz)
                end = start + timedelta(minutes=spec.minutes)
                if start >= at:
                    return start.astimezone(UTC), end.astimezone(UTC)
                if join_open and start <= at < end:
                    return at.astimezone(UTC), end.astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"no {spec.kind} send window within two years of {at.isoformat()}")


def current_or_next_window(
    spec: WindowSpec, calendar: Calendar, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """For people asking "when would a message go out now": reads the wall clock."""
    return next_window(now or datetime.now(UTC), spec, calendar, join_open=True)


# --------------------------------------------------------------------------- messages

LEVEL_LABELS = {
    "blue": "蓝色预警（即将超省内时限）",
    "yellow": "黄色预警（已超省内时限）",
    "orange": "橙色预警（即将超国网时限）",
    "red": "红色预警（已超国网时限）",
}
RESULT_LABELS = {"assess": "考核", "notify": "通报", "onsite_check": "现场核查"}
BUSINESS_LABELS = {
    "lv_residential": "低压居民新装/增容",
    "lv_non_residential": "低压非居民新装/增容",
    "lv_small_micro": "小微企业低压接入",
    "hv": "高压新装/增容",
    "temporary": "装表临时用电",
    "dg_lv": "低压分布式电源并网",
    "dg_hv": "10/35kV分布式光伏",
}
PROGRESS_TEMPLATES = {
    "accepted": "【国网供电】尊敬的客户，您的用电申请（工单{no}）已于{date}受理，"
    "我们将按承诺时限为您办理，可通过“网上国网”APP查询进度。",
    "plan_replied": "【国网供电】尊敬的客户，您的用电申请（工单{no}）供电方案已于{date}答复，"
    "请通过“网上国网”APP查看并确认。",
    "energized": "【国网供电】尊敬的客户，您的用电申请（工单{no}）已于{date}完成装表送电，"
    "感谢您的支持。",
}


def render_warning(notice: WarningNotice, policy: ResolvedPolicy) -> str:
    tz = ZoneInfo(policy.settings.timezone)
    try:
        label = policy.monitor(notice.monitor).label or notice.code
    except KeyError:
        label = notice.code or notice.monitor
    business = BUSINESS_LABELS.get(notice.business_type, notice.business_type)
    voltage = f" {notice.voltage}" if notice.voltage else ""
    due = notice.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    result = RESULT_LABELS.get(notice.result or "", "")
    parts = [
        f"【业扩预警】{LEVEL_LABELS.get(notice.level, notice.level)}：",
        f"工单{notice.application_no}（{business}{voltage}）",
        f"「{label}」预警时点{due}。",
        "协同事项，" if notice.coordination else "",
        f"结果：{result}，" if result else "",
        "请及时处理。",
    ]
    return "".join(parts)


def render_progress(notice: ProgressNotice, tz: str) -> str:
    day = notice.at.astimezone(ZoneInfo(tz))
    return PROGRESS_TEMPLATES[notice.kind].format(
        no=notice.application_no, date=f"{day.year}年{day.month}月{day.day}日"
    )


# --------------------------------------------------------------------------- recipients

#: Which departments a coordination item (协同事项) involves, by the monitor's code. The
#: warning carries only `coordination = true`; the documents name the notices, not the
#: departments, so this is the project's reading (docs/notifications.md).
COORDINATION_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "joint_survey": ("development", "operations"),
    "joint_drawing_review": ("operations",),
    "joint_mid_inspection": ("operations",),
    "joint_acceptance": ("operations", "dispatch"),
    "grid_works": ("construction",),
    "outage_plan": ("dispatch",),
    "admin_approval": ("construction",),
}
DEFAULT_COORDINATION_DEPARTMENTS = ("operations",)


def coordination_departments(code: str) -> tuple[str, ...]:
    return COORDINATION_DEPARTMENTS.get(code, DEFAULT_COORDINATION_DEPARTMENTS)


@dataclass
class Recipient:
    phone: str
    roles: list[str]
    staff_code: str | None


@dataclass(frozen=True)
class Missing:
    role: str
    department: str
    reason: str


@dataclass
class Resolution:
    recipients: list[Recipient] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    def add(self, person: StaffRow, role: str) -> None:
        for r in self.recipients:
            if r.phone == person.phone:
                if role not in r.roles:
                    r.roles.append(role)
                return
        self.recipients.append(Recipient(person.phone, [role], person.code))


def resolve_recipients(
    session: Session,
    unit: str,
    roles: Sequence[str],
    customer_manager: str | None,
    departments: Sequence[str],
) -> Resolution:
    """People for the roles, in the policy's order; one entry per phone.

    - customer_manager: the staff member the application names (any unit);
    - department roles (coordinator, dept_*): holders in each coordinating department;
    - provincial_dept_head: holders at the province (the unit path's root), in the
      coordinating departments (marketing when the item is not a coordination item);
    - every other role: holders at the application's unit, else at the nearest ancestor
      that has any (a county without its own specialist is covered by its city's).
    """
    chain = unit_chain(unit)
    staff = session.exec(
        select(StaffRow).where(col(StaffRow.unit).in_(chain), col(StaffRow.active).is_(True))
    ).all()
    res = Resolution()

    def nearest(role: str, department: str | None, units: Iterable[str]) -> list[StaffRow]:
        for u in units:
            found = [
                s
                for s in staff
                if s.unit == u
                and role in s.roles
                and (department is None or s.department == department)
            ]
            if found:
                return sorted(found, key=lambda s: s.code)
        return []

    for role in roles:
        if role == "customer_manager":
            if not customer_manager:
                res.missing.append(Missing(role, "", "the application names no customer manager"))
                continue
            cm = session.exec(
                select(StaffRow).where(
                    StaffRow.code == customer_manager, col(StaffRow.active).is_(True)
                )
            ).first()
            if cm is None:
                res.missing.append(
                    Missing(role, "", f"customer manager {customer_manager} is not active staff")
                )
            else:
                res.add(cm, role)
        elif role not in ROLES:
            res.missing.append(Missing(role, "", "unknown role code"))
        elif role in DEPARTMENT_ROLES or role == "provincial_dept_head":
            depts = list(departments) or (["marketing"] if role == "provincial_dept_head" else [])
            if not depts:
                res.missing.append(Missing(role, "", "not a coordination item: no department"))
            units = chain[-1:] if role == "provincial_dept_head" else chain
            for dept in depts:
                found = nearest(role, dept, units)
                if not found:
                    where = f"province {chain[-1]}" if role == "provincial_dept_head" else unit
                    res.missing.append(Missing(role, dept, f"nobody holds it for {where} or above"))
                for person in found:
                    res.add(person, role)
        else:
            found = nearest(role, None, chain)
            if not found:
                res.missing.append(Missing(role, "", f"nobody holds it in {unit} or above"))
            for person in found:
                res.add(person, role)
    return res


# --------------------------------------------------------------------------- dispatch payloads


#: How long a dispatch holds a row it is sending: the dispatcher's heartbeat timeout, after
#: which Temporal retries a dispatch that went silent.
CLAIM_LEASE = timedelta(minutes=1)


class DispatchRequest(BaseModel):
    #: The dispatcher's workflow.now(): the instant the windows are judged at.
    at: datetime
    batch_size: int = 200
    #: While progress messages may go out, wake at least this often (None: only at windows).
    poll_minutes: int | None = None


class DispatchResult(BaseModel):
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    rescheduled: int = 0
    #: Rows are still due now: call again at once.
    more: bool = False
    next_wake: datetime | None = None


# --------------------------------------------------------------------------- the activities


@cache
def _units_with_packs() -> frozenset[str]:
    return frozenset(list_units())


def policy_for_unit(unit: str) -> ResolvedPolicy:
    """The policy of the nearest unit with a pack (a supply station has none of its own)."""
    packs = _units_with_packs()
    for u in unit_chain(unit):
        if u in packs:
            return load_policy(u)
    return load_policy("national")


class NotificationActivities:
    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        gateway: Gateway | None = None,
        calendar_for: Callable[[str], Calendar] = get_calendar,
        policy_for: Callable[[str], ResolvedPolicy] = policy_for_unit,
    ) -> None:
        self._engine = engine
        self._settings = settings or Settings()
        self._gateway: Gateway | None = gateway
        self._calendar_for = calendar_for
        self._policy_for = policy_for
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert
        # Built once and executed with each call's rows (executemany): a statement built around
        # the rows' values is compiled again at every call, most of an enqueue's cost
        # (bench/workflow_bench.py: three progress messages per application).
        self._outbox_insert = insert(table).on_conflict_do_nothing(
            index_elements=[table.c.application_no, table.c.monitor, table.c.level, table.c.phone]
        )

    @property
    def gateway(self) -> Gateway:
        # Built on first use: a worker that never dispatches needs no gateway configured.
        if self._gateway is None:
            self._gateway = gateway_from_settings(self._settings)
        return self._gateway

    def _window(
        self, unit: str, kind: WindowKind, at: datetime, join_open: bool
    ) -> tuple[datetime, datetime]:
        policy = self._policy_for(unit)
        spec = window_spec(policy, kind, self._settings.sms_progress_hours)
        calendar = self._calendar_for(policy.settings.calendar_region)
        return next_window(at, spec, calendar, join_open=join_open)

    # -- enqueue -------------------------------------------------------------------------------

    @activity.defn
    def enqueue_warning(self, notice: WarningNotice) -> int:
        """Queue the warning's messages; returns how many rows this call inserted (0 on a
        repeat: the outbox's unique key makes the call idempotent)."""
        policy = self._policy_for(notice.unit)
        kind = "appointment" if notice.code == "appointment_confirm" else "warning"
        start, end = self._window(notice.unit, kind, notice.raised_at, join_open=False)
        text = render_warning(notice, policy)
        # A notice may name its coordinating departments (a field the workflow may add);
        # otherwise the monitor's code decides (COORDINATION_DEPARTMENTS).
        named: tuple[str, ...] = tuple(getattr(notice, "departments", None) or ())
        departments: tuple[str, ...] = ()
        if notice.coordination:
            departments = named or coordination_departments(notice.code)
        for _ in range(3):
            try:
                with Session(self._engine) as session:
                    res = resolve_recipients(
                        session, notice.unit, notice.roles, notice.customer_manager, departments
                    )
                    rows = [
                        OutboxBase(
                            application_no=notice.application_no,
                            unit=notice.unit,
                            kind="warning",
                            monitor=notice.monitor,
                            code=notice.code,
                            level=notice.level,
                            phone=r.phone,
                            role=r.roles[0],
                            roles=r.roles,
                            staff_code=r.staff_code,
                            message=text,
                            send_after=start,
                            send_before=end,
                            window=kind,
                            created_at=datetime.now(UTC),
                        )
                        for r in res.recipients
                    ]
                    inserted = self._insert_new(session, rows)
                    self._record_missing(session, notice, res.missing)
                    session.commit()
            except IntegrityError:
                # A concurrent enqueue of the same warning won the race: look again.
                continue
            log.info(
                "warning %s %s %s: %d message(s) queued for %s, %d role(s) undeliverable",
                notice.application_no,
                notice.monitor,
                notice.level,
                inserted,
                start.isoformat(),
                len(res.missing),
            )
            return inserted
        raise RuntimeError("outbox insert kept colliding; the activity will be retried")

    @activity.defn
    def enqueue_progress(self, notice: ProgressNotice) -> int:
        """Queue a customer progress message; 0 if already queued or the phone is missing or
        not a mobile number (recorded as undeliverable, never raised: retrying cannot help)."""
        monitor = f"progress.{notice.kind}"
        policy = self._policy_for(notice.unit)
        phone: str | None = None
        reason = "the application has no customer phone"
        if notice.phone:
            try:
                phone = normalize_mobile(notice.phone)
            except ValueError as exc:
                reason = f"customer phone: {exc}"
        with Session(self._engine) as session:
            if phone is None:
                self._add_missing(
                    session,
                    UndeliverableRow(
                        application_no=notice.application_no,
                        unit=notice.unit,
                        monitor=monitor,
                        level="progress",
                        role="customer",
                        reason=reason,
                        created_at=datetime.now(UTC),
                    ),
                )
                session.commit()
                return 0
            start, end = self._window(notice.unit, "progress", notice.at, join_open=True)
            row = OutboxBase(
                application_no=notice.application_no,
                unit=notice.unit,
                kind="progress",
                monitor=monitor,
                code=notice.kind,
                level="progress",
                phone=phone,
                role="customer",
                roles=["customer"],
                message=render_progress(notice, policy.settings.timezone),
                send_after=start,
                send_before=end,
                window="progress",
                created_at=datetime.now(UTC),
            )
            try:
                inserted = self._insert_new(session, [row])
                session.commit()
            except IntegrityError:
                return 0
        return inserted

    def _insert_new(self, session: Session, rows: list[OutboxBase]) -> int:
        """Insert the rows the outbox lacks, in one statement: the unique key (application,
        monitor, level, phone) decides, so a repeat or a concurrent enqueue inserts nothing."""
        if not rows:
            return 0
        result = session.execute(self._outbox_insert, [r.model_dump() for r in rows])
        # An executemany's rowcount is the sum of its rows' (DB-API; sqlite3 and psycopg).
        return int(getattr(result, "rowcount", 0) or 0)

    def _record_missing(
        self, session: Session, notice: WarningNotice, missing: list[Missing]
    ) -> None:
        for m in missing:
            self._add_missing(
                session,
                UndeliverableRow(
                    application_no=notice.application_no,
                    unit=notice.unit,
                    monitor=notice.monitor,
                    level=notice.level,
                    role=m.role,
                    department=m.department,
                    reason=m.reason,
                    created_at=datetime.now(UTC),
                ),
            )

    @staticmethod
    def _add_missing(session: Session, row: UndeliverableRow) -> None:
        exists = session.exec(
            select(UndeliverableRow.id).where(
                UndeliverableRow.application_no == row.application_no,
                UndeliverableRow.monitor == row.monitor,
                UndeliverableRow.level == row.level,
                UndeliverableRow.role == row.role,
                UndeliverableRow.department == row.department,
            )
        ).first()
        if exists is None:
            session.add(row)
            session.flush()

    # -- dispatch ------------------------------------------------------------------------------

    @activity.defn
    def dispatch_due(self, req: DispatchRequest) -> DispatchResult:
        """Send the pending rows whose window is open at `req.at` (one batch), move rows that
        missed their window to the next one, and say when to wake next."""
        at = req.at
        t0 = _time.monotonic()

        def now() -> datetime:
            # The dispatcher's instant plus the time this batch has taken: a slow gateway
            # must not carry a batch past the window's end.
            return at + timedelta(seconds=_time.monotonic() - t0)

        out = DispatchResult()
        with Session(self._engine) as session:
            out.rescheduled += self._reschedule_missed(session, at)
            due = session.exec(
                select(OutboxRow)
                .where(
                    OutboxRow.state == "pending",
                    col(OutboxRow.send_after) <= at,
                    col(OutboxRow.send_before) > at,
                    or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) <= at),
                )
                .order_by(col(OutboxRow.send_after), col(OutboxRow.id))
                .limit(req.batch_size)
            ).all()
            # As read now: commits below reload rows, and a claim must compare against
            # what this dispatch saw, not what a concurrent one has written since.
            seen_attempts = {row.id: row.attempts for row in due}
            for row in due:
                t = now()
                if row.state != "pending" or row.attempts != seen_attempts[row.id]:
                    continue  # a concurrent dispatch has it (the row reloads after a commit)
                if row.attempts >= self._settings.sms_max_attempts:
                    # Every earlier attempt died with its activity (a gateway that crashes
                    # the worker on this row): give it up rather than block the queue.
                    row.state = "failed"
                    row.last_error = f"given up after {row.attempts} attempts"
                    out.failed += 1
                    session.commit()
                    continue
                if t >= row.send_before:
                    self._move_to_next_window(row, t)
                    out.rescheduled += 1
                    session.commit()
                    continue
                # Claim the row by counting the attempt before the gateway sees it: a crash
                # after this point is visible in the row, and the resend carries the same
                # message id. The compare-and-set on `attempts` and the lease mean that of two
                # dispatches running at once (a timed-out attempt still alive beside its
                # retry), only one sends; a crashed dispatch's lease runs out and the row is
                # sent again (same id) by the next.
                claimed = session.connection().execute(
                    update(OutboxRow)
                    .where(
                        col(OutboxRow.id) == row.id,
                        col(OutboxRow.state) == "pending",
                        col(OutboxRow.attempts) == seen_attempts[row.id],
                        or_(
                            col(OutboxRow.claimed_until).is_(None),
                            col(OutboxRow.claimed_until) <= t,
                        ),
                    )
                    .values(attempts=seen_attempts[row.id] + 1, claimed_until=t + CLAIM_LEASE)
                )
                session.commit()
                if claimed.rowcount != 1:
                    continue
                result = self._send(row)
                self._apply(row, result, now(), out)
                session.commit()
                if activity.in_activity():
                    activity.heartbeat(row.id)
            out.more = len(due) == req.batch_size and self._still_due(session, at)
            out.next_wake = self._next_wake(session, at, req.poll_minutes)
        if out.sent or out.failed or out.retrying:
            log.info(
                "SMS dispatch at %s: %d sent, %d failed, %d to retry, %d rescheduled",
                at.isoformat(),
                out.sent,
                out.failed,
                out.retrying,
                out.rescheduled,
            )
        return out

    def _send(self, row: OutboxRow) -> SendResult:
        # An exception here fails the activity and Temporal retries it: the row is still
        # pending with its attempt counted, and the resend carries the same message id.
        return self.gateway.send(SmsMessage(row.message_id, row.phone, row.message))

    def _apply(self, row: OutboxRow, result: SendResult, t: datetime, out: DispatchResult) -> None:
        row.gateway_answer = result.answer[:500]
        row.claimed_until = None
        if result.outcome == "sent":
            row.state = "sent"
            row.sent_at = t
            row.last_error = None
            out.sent += 1
        elif result.outcome == "rejected" or row.attempts >= self._settings.sms_max_attempts:
            row.state = "failed"
            row.last_error = result.answer[:500]
            out.failed += 1
            log.warning("SMS %s given up after %d attempt(s)", row.message_id, row.attempts)
        else:
            row.last_error = result.answer[:500]
            # Back off within the window (30 s, 1 min, 2 min ...); past its end, the next one.
            retry_at = t + timedelta(seconds=min(30 * 2 ** (row.attempts - 1), 600))
            if retry_at < row.send_before:
                row.send_after = retry_at
            else:
                self._move_to_next_window(row, row.send_before)
            out.retrying += 1
        log.debug("SMS %s to %s: %s", row.message_id, mask_phone(row.phone), row.state)

    def _move_to_next_window(self, row: OutboxRow, t: datetime) -> None:
        start, end = self._window(row.unit, row.window, t, join_open=False)
        row.send_after, row.send_before = start, end

    def _reschedule_missed(self, session: Session, at: datetime) -> int:
        """Rows whose window closed unsent (the dispatcher was down): the next window, or the
        one open now. Never dropped, never sent outside a window."""
        missed = session.exec(
            select(OutboxRow).where(OutboxRow.state == "pending", col(OutboxRow.send_before) <= at)
        ).all()
        for row in missed:
            start, end = self._window(row.unit, row.window, at, join_open=True)
            row.send_after, row.send_before = start, end
        if missed:
            session.commit()
        return len(missed)

    @staticmethod
    def _still_due(session: Session, at: datetime) -> bool:
        n = session.exec(
            select(func.count())
            .select_from(OutboxRow)
            .where(
                OutboxRow.state == "pending",
                col(OutboxRow.send_after) <= at,
                col(OutboxRow.send_before) > at,
                or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) <= at),
            )
        ).one()
        return n > 0

    def _next_wake(self, session: Session, at: datetime, poll_minutes: int | None) -> datetime:
        """The earliest of: a pending row's send_after, the next window start of any unit's
        warning or appointment windows (new rows may arrive meanwhile), and — while progress
        messages may go out — the next poll."""
        candidates: list[datetime] = []
        pending = session.exec(
            select(func.min(OutboxRow.send_after)).where(
                OutboxRow.state == "pending", col(OutboxRow.send_after) > at
            )
        ).one()
        if pending is not None:
            candidates.append(pending.replace(tzinfo=UTC) if pending.tzinfo is None else pending)
        lease = session.exec(
            select(func.min(OutboxRow.claimed_until)).where(
                OutboxRow.state == "pending", col(OutboxRow.claimed_until) > at
            )
        ).one()
        if lease is not None:
            # A dispatch that died holding rows: come back when its hold runs out.
            candidates.append(lease.replace(tzinfo=UTC) if lease.tzinfo is None else lease)
        for unit in self._dispatch_units():
            for kind in ("warning", "appointment"):
                start, _ = self._window(unit, kind, at + timedelta(seconds=1), join_open=False)
                candidates.append(start)
        if poll_minutes:
            start, _ = self._window("national", "progress", at, join_open=True)
            candidates.append(max(start, at + timedelta(minutes=poll_minutes)))
        return min(candidates)

    def requeue_failed(self, now: datetime, application_no: str | None = None) -> int:
        """An operator's recovery once a gateway outage has outlasted the attempts: failed
        rows go back to pending for the window open now or the next one, counting attempts
        from zero (the last error stays). Same rows, same message ids: whatever did reach a
        phone before is dropped by the gateway as a duplicate."""
        with Session(self._engine) as session:
            query = select(OutboxRow).where(OutboxRow.state == "failed")
            if application_no is not None:
                query = query.where(OutboxRow.application_no == application_no)
            rows = session.exec(query).all()
            for row in rows:
                start, end = self._window(row.unit, row.window, now, join_open=True)
                row.state = "pending"
                row.attempts = 0
                row.claimed_until = None
                row.send_after, row.send_before = start, end
            session.commit()
        if rows:
            log.info("requeued %d failed SMS", len(rows))
        return len(rows)

    @staticmethod
    def _dispatch_units() -> list[str]:
        # Every pack's windows: a unit without its own pack shares its ancestor's.
        return sorted(_units_with_packs())


__all__ = [
    "DispatchRequest",
    "DispatchResult",
    "NotificationActivities",
    "next_window",
    "resolve_recipients",
    "window_spec",
]
