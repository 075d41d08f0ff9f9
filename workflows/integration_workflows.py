"""The integrations' workflows, as the worker registers them (one line there; their activities
are `activities.integrations.integration_activities`)."""

from __future__ import annotations

from workflows.permit import PermitDecision
from workflows.registration import ProposedRegistration
from workflows.reserve_project import ReserveProject

INTEGRATION_WORKFLOWS: list[type] = [ReserveProject, ProposedRegistration, PermitDecision]
