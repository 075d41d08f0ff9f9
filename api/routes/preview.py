"""Deadline preview: the monitors an application would have, without starting anything."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import PUBLIC
from api.deps import SettingsDep
from api.instants import localised, zone_of
from api.problems import problems
from api.schemas import PreviewBody
from policies.preview import PreviewResponse, preview

#: Public: a preview computes deadlines for a described application and carries no
#: personal data.
router = APIRouter(prefix="/api", tags=["deadlines"], dependencies=[PUBLIC])


@router.post("/deadline-preview", response_model=PreviewResponse, responses=problems(422))
def deadline_preview(body: PreviewBody, settings: SettingsDep) -> PreviewResponse:
    """Same body as creating an application, plus optional `events` (and `as_of`). Needs no
    Temporal server: the policy engine answers directly."""
    return localised(preview(body), zone_of(body.unit, settings.timezone))
