"""The staff console at /console/: server-rendered pages in Chinese (Jinja, htmx served by the
app, charts drawn on the server), over the same read model, workflow queries and updates as
the API. Pages, not API: they are left out of the OpenAPI document (docs/reports.md).

- /console/my: my applications (due instants, warning levels, what to do next);
- /console/warnings: the unit's warning board;
- /console/applications/{no}: one application, its timeline chart, recording an event;
- /console/reports: the reports, with charts.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel import col, select

from api import report_builder as rb
from api.auth import ActorDep, UnitScope, require
from api.console import charts
from api.console.access import ViewerDep, sign_in_router
from api.console.pages import STATIC, render
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.instants import zone_of
from api.problems import errors_from_detail
from api.routes import applications as api_applications
from api.routes.reports import FIRST_DAY, LAST_DAY
from api.scope import READABLE, WRITABLE
from contracts.application import (
    APPLICATION_NO_PATTERN,
    LEVEL_ORDER,
    ApplicationStatus,
    RecordEventRequest,
)
from policies import labels
from policies.codes import STAGE_ORDER
from readmodel.applications import ApplicationRow, WarningRow

log = logging.getLogger(__name__)
#: Every page needs a signed-in member who reads applications (the token in the console's
#: cookie, api/console/access.py); the sign-in page and the static files are public.
router = APIRouter(
    prefix="/console", include_in_schema=False, dependencies=[require("applications.read")]
)
public_router = sign_in_router
ApplicationNo = Annotated[str, Path(pattern=APPLICATION_NO_PATTERN)]
#: The files the console serves (vendored: docs/reports.md says where they come from).
STATIC_FILES = {"htmx.min.js": "text/javascript", "console.css": "text/css"}


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/console/my", status_code=303)


@public_router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise HTTPException(404, detail={"field": "name", "reason": f"no file {name}"})
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name])


# -- my applications ------------------------------------------------------------------------


@router.get("/my")
def my_applications(viewer: ViewerDep, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    rows: list[ApplicationRow] = []
    if viewer.customer_manager:
        rows = list(
            session.exec(
                select(ApplicationRow)
                .where(
                    col(ApplicationRow.customer_manager) == viewer.customer_manager,
                    col(ApplicationRow.state) == "running",
                )
                .order_by(col(ApplicationRow.next_due_at).asc().nulls_last())
                .limit(500)
            ).all()
        )
    items = [_my_item(r, settings.timezone) for r in rows]
    response = render("my.html", viewer=viewer, items=items, nav="my")
    viewer.remember(response)
    return response


def _my_item(row: ApplicationRow, fallback: str) -> dict[str, Any]:
    zone = zone_of(row.unit, fallback)
    due = row.next_due_at.astimezone(zone) if row.next_due_at else None
    stage = labels.STAGES.get(row.stage, row.stage)
    step = f"办理【{stage}】" + (f"，{due:%Y-%m-%d %H:%M} 前" if due else "")
    if row.warning_level in ("yellow", "red"):
        step += "（已超时限，请尽快办结并说明原因）"
    return {"row": row, "due": due, "next_step": step}


# -- the warning board ----------------------------------------------------------------------


@router.get("/warnings")
def warning_board(session: SessionDep, settings: SettingsDep, unit: UnitScope) -> HTMLResponse:
    query = (
        select(
            WarningRow, ApplicationRow.unit, ApplicationRow.stage, ApplicationRow.customer_manager
        )
        .join(ApplicationRow, col(ApplicationRow.application_no) == WarningRow.application_no)
        .where(col(WarningRow.open).is_(True))
    )
    if unit:
        query = query.where(
            (col(ApplicationRow.unit) == unit) | col(ApplicationRow.unit).startswith(f"{unit}/")
        )
    found = session.exec(query.order_by(col(WarningRow.due_at)).limit(500)).all()
    counts = dict.fromkeys(LEVEL_ORDER, 0)
    items: list[dict[str, Any]] = []
    for w, app_unit, stage, manager in found:
        counts[w.level] = counts.get(w.level, 0) + 1
        zone = zone_of(app_unit, settings.timezone)
        items.append(
            {
                "w": w,
                "unit": app_unit,
                "stage": stage,
                "manager": manager,
                "due": w.due_at.astimezone(zone),
                "raised": w.raised_at.astimezone(zone),
            }
        )
    items.sort(key=lambda i: (-LEVEL_ORDER[i["w"].level], i["due"]))  # highest level first
    return render("warnings.html", items=items, counts=counts, unit=unit, nav="warnings")


# -- one application ------------------------------------------------------------------------


@router.get("/applications")
def find_application(no: Annotated[str, Query(pattern=APPLICATION_NO_PATTERN)]) -> RedirectResponse:
    return RedirectResponse(f"/console/applications/{no}", status_code=303)


async def _status(
    application_no: str, temporal: Any, session: Any, settings: Any
) -> ApplicationStatus:
    """The same answer as GET /api/applications/{no}: live while running, stored once closed."""
    return await api_applications.get_application(application_no, temporal, session, settings)


def _page_context(status: ApplicationStatus) -> dict[str, Any]:
    policies = rb.policies()
    cal = policies.calendar(status.profile.unit)
    now = datetime.now(UTC)
    chart = charts.timeline(status, cal, now)
    skipped = set(status.skipped_stages)
    stages = [
        c for c in STAGE_ORDER if c in labels.STAGES and c != "full_process" and c not in skipped
    ]
    return {"status": status, "chart": chart, "stages": stages, "nav": "application"}


@router.get("/applications/{application_no}", dependencies=[READABLE])
async def application_page(
    application_no: ApplicationNo, temporal: TemporalDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        status = await _status(application_no, temporal, session, settings)
    except HTTPException as exc:
        return _refused_page(exc, application_no)
    return render("application.html", **_page_context(status))


@router.get("/applications/{application_no}/status", dependencies=[READABLE])
async def application_status(
    application_no: ApplicationNo, temporal: TemporalDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """The status panel and chart alone, for htmx to refresh after a change."""
    try:
        status = await _status(application_no, temporal, session, settings)
    except HTTPException as exc:
        return _refused_page(exc, application_no)
    return render("_status.html", **_page_context(status))


def _refused_page(exc: HTTPException, application_no: str) -> HTMLResponse:
    errors, detail, _ = errors_from_detail(exc.detail)
    reasons = [f"{e.field}: {e.reason}" for e in errors]
    return render(
        "refused.html",
        status_code=exc.status_code,
        application_no=application_no,
        reasons=reasons or [detail or "无法读取该申请"],
        nav="application",
    )


@router.post(
    "/applications/{application_no}/events",
    dependencies=[require("applications.record"), WRITABLE],
)
async def record_event(
    application_no: ApplicationNo,
    request: Request,
    temporal: TemporalDep,
    session: SessionDep,
    settings: SettingsDep,
    who: ActorDep,
    engine: EngineDep,
) -> HTMLResponse:
    """The form's event, recorded through the API's own route function: the same checks, the
    same workflow update, the same refusals (shown, nothing recorded)."""
    form = {
        k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
    }
    zone = api_applications.unit_zone(application_no, session, settings)
    try:
        body = _event_request(form, zone)
        result = await api_applications.record_event(
            application_no, body, temporal, zone, who, engine
        )
    except HTTPException as exc:
        errors, detail, _ = errors_from_detail(exc.detail)
        reasons = [f"{e.field}: {e.reason}" for e in errors] or [detail or "未记录"]
        return render("_event_result.html", status_code=200, ok=False, reasons=reasons)
    response = render("_event_result.html", ok=True, result=result, reasons=[])
    # The status panel listens for this and reloads itself.
    response.headers["HX-Trigger"] = "status-changed"
    return response


def _event_request(form: dict[str, str], zone: ZoneInfo) -> RecordEventRequest:
    """The form as the API's request body; a field the form got wrong is a refusal naming it."""
    at = form.get("at") or None
    try:
        when = datetime.fromisoformat(at).replace(tzinfo=zone) if at else None
    except ValueError:
        raise HTTPException(422, detail={"field": "at", "reason": "不是有效的时间"}) from None
    try:
        return RecordEventRequest(
            event=form.get("event", ""),
            at=when,
            by=form.get("by") or None,
            note=form.get("note") or None,
        )
    except ValidationError as exc:
        err = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in err["loc"]) or "event"
        raise HTTPException(422, detail={"field": field, "reason": err["msg"]}) from None


# -- reports --------------------------------------------------------------------------------


@router.get("/reports", dependencies=[require("reports.read")])
def reports_page(
    engine: EngineDep,
    unit: UnitScope,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    policies = rb.policies()
    today = rb.utc_now().astimezone(policies.calendar(unit or "national").zone).date()
    last = min(max(date_to or today, FIRST_DAY), LAST_DAY)
    first = min(max(date_from or last.replace(month=1, day=1), FIRST_DAY), last)
    scope = rb.scope(policies, unit, first, last)
    with engine.connect() as conn:
        connection = rb.connection_time(conn, policies, scope, "total")
        stages = rb.stage_times(conn, policies, scope, "total")
        warnings = rb.warnings(conn, scope)
        lists = rb.lists(
            conn,
            policies,
            scope,
            rb.utc_now(),
            ["too_short", "late_appointment", "overlong_pending"],
            0,
            50,
        )
        penalties = rb.penalties(conn, policies, scope)
    query = urlencode({k: v for k, v in {"unit": unit, "from": first, "to": last}.items() if v})
    return render(
        "reports.html",
        nav="reports",
        unit=unit,
        first=first,
        last=last,
        query=query,
        connection=connection,
        stages=stages,
        warnings=warnings,
        lists=lists,
        penalties=penalties,
        charts=_report_charts(connection, stages, warnings),
    )


def _report_charts(connection: Any, stages: Any, warnings: Any) -> dict[str, charts.BarChart]:
    targets = {
        (bt, v): t.average_max
        for t in connection.targets
        if t.measure == "connection_time" and t.unit == "day"
        for bt in t.business_types
        for v in (t.voltages or [None])
    }
    conn_items = [
        (
            f"{r.business_type_label} {r.voltage or ''}",
            r.calendar_days.mean or 0.0,
            "#5a7ea8",
            targets.get((r.business_type, r.voltage), targets.get((r.business_type, None))),
        )
        for r in connection.rows
    ]
    stage_items = [
        (f"{r.stage_label} [{r.monitor}]", r.counted.mean or 0.0, "#3a9a4a", None)
        for r in stages.rows
        if r.counted_unit == "workday"
    ]
    level_items = [
        (t.label, float(t.raised), charts.LEVEL_COLOURS.get(t.key, "#888"), None)
        for t in warnings.totals.by_level
    ]
    return {
        "connection": charts.bars(conn_items),
        "stages": charts.bars(stage_items),
        "levels": charts.bars(level_items),
    }
