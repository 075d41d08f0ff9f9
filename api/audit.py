"""Writing the audit trail from a route (readmodel/audit.py): after the change succeeded, with
the signed-in member and their address."""

from __future__ import annotations

from sqlalchemy import Engine

from api.auth import Actor
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
    record(
        engine,
        AuditBase(
            at=now(),
            actor=who.code,
            address=who.address,
            action=action,
            application_no=application_no,
            target=target,
            detail=detail or {},
        ),
    )
