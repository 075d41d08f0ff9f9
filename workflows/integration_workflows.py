"""The integrations' workflows and activities, as the worker registers them (one line there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client

from activities.integrations import IntegrationActivities
from core.config import Settings
from workflows.permit import PermitDecision
from workflows.registration import ProposedRegistration
from workflows.reserve_project import ReserveProject

INTEGRATION_WORKFLOWS: list[type] = [ReserveProject, ProposedRegistration, PermitDecision]


def integration_activities(
    engine: Engine, settings: Settings | None, client: Client | None
) -> list[Callable[..., Any]]:
    acts = IntegrationActivities(engine, client, settings)
    return [
        acts.preliminary_plan,
        acts.write_reserve_project,
        acts.write_registration,
        acts.remind,
        acts.start_application,
        acts.apply_permit,
    ]
