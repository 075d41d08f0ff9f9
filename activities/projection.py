"""Projection of workflow state into the database read model.

Idempotent by construction: an upsert keyed by application number that ignores anything older
than what is stored, so retries and replays never write twice or move a row backwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from core.models import Application
from workflows.models import ProjectionInput


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def project_application(self, data: ProjectionInput) -> None:
        with Session(self._engine) as session:
            row = session.get(Application, data.application_no)
            if row is not None and row.updated_at > data.updated_at:
                return
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
                customer_name=data.customer.name,
                customer_phone=data.customer.phone,
            )
            if row is None:
                session.add(Application(application_no=data.application_no, **values))
            else:
                for key, value in values.items():
                    setattr(row, key, value)
            session.commit()
