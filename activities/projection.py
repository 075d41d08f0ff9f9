"""Projection of workflow state into the database read model.

Idempotent by construction: an upsert keyed by application number that ignores anything older
than what is stored, so retries and replays never write twice or move a row backwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity

from core.models import Application, TimelineRow, WarningRow
from workflows.models import ProjectionInput


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def project_application(self, data: ProjectionInput) -> None:
        with Session(self._engine) as session:
            self._upsert_application(session, data)
            self._add_timeline(session, data)
            self._upsert_warnings(session, data)
            session.commit()

    @staticmethod
    def _upsert_application(session: Session, data: ProjectionInput) -> None:
        row = session.get(Application, data.application_no)
        if row is not None and row.updated_at > data.updated_at:
            return  # an older write arriving late must not move the row backwards
        values: dict[str, Any] = dict(
            unit=data.profile.unit,
            business_type=data.profile.business_type,
            voltage=data.profile.voltage,
            capacity_kva=data.profile.capacity_kva,
            state=data.state,
            stage=data.stage,
            customer_manager=data.customer_manager,
            accepted_at=data.profile.accepted_at,
            updated_at=data.updated_at,
            warning_level=data.warning_level,
            next_due_at=data.next_due_at,
            too_short=data.too_short,
            provisional=data.provisional,
            customer_name=data.customer.name,
            customer_phone=data.customer.phone,
        )
        if data.final_status is not None:
            values["final_status"] = data.final_status.model_dump(mode="json")
        if row is None:
            session.add(Application(application_no=data.application_no, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)

    @staticmethod
    def _add_timeline(session: Session, data: ProjectionInput) -> None:
        if not data.timeline:
            return
        have = set(
            session.exec(
                select(TimelineRow.seq).where(
                    TimelineRow.application_no == data.application_no,
                    col(TimelineRow.seq) >= data.timeline_offset,
                )
            ).all()
        )
        for i, entry in enumerate(data.timeline, start=data.timeline_offset):
            if i not in have:
                session.add(
                    TimelineRow(
                        application_no=data.application_no,
                        seq=i,
                        event=entry.event,
                        at=entry.at,
                        by=entry.by,
                        note=entry.note,
                    )
                )

    @staticmethod
    def _upsert_warnings(session: Session, data: ProjectionInput) -> None:
        for w in data.warnings:
            row = session.exec(
                select(WarningRow).where(
                    WarningRow.application_no == data.application_no,
                    WarningRow.monitor == w.monitor,
                    WarningRow.level == w.level,
                )
            ).first()
            if row is None:
                session.add(
                    WarningRow(
                        application_no=data.application_no,
                        monitor=w.monitor,
                        code=w.code,
                        level=w.level,
                        due_at=w.due_at,
                        raised_at=w.raised_at,
                        roles=w.roles,
                        result=w.result,
                        source=w.source,
                        open=w.open,
                    )
                )
            else:
                row.open = w.open
