"""Writing the audit trail from a route (readmodel/audit.py): after the change succeeded, with
the signed-in member and their address."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from api.auth import Actor
from readmodel.applications import ApplicationRow
from readmodel.audit import AuditBase, now, record


def audit(
    engine: Engine,
    who: Actor,
    action: str,
    application_no: str | None = None,
    *,
    target: str | None = None,
    detail: dict[str, str] | None = None,
) -> None:
    unit = who.unit
    if application_no is not None:
        with Session(engine) as session:
            row = session.get(ApplicationRow, application_no)
        unit = row.unit if row is not None else unit
    record(
        engine,
        AuditBase(
            at=now(),
            actor=who.code,
            address=who.address,
            action=action,
            application_no=application_no,
            unit=unit,
            target=target,
            detail=detail or {},
        ),
    )
