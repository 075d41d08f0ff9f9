"""Deadline preview: the monitors an application would have, without starting anything."""

from __future__ import annotations

from fastapi import APIRouter

from policies.preview import PreviewRequest, PreviewResponse, preview

router = APIRouter(prefix="/api", tags=["deadlines"])


@router.post("/deadline-preview", response_model=PreviewResponse)
def deadline_preview(body: PreviewRequest) -> PreviewResponse:
    """Same body as creating an application, plus optional `events` (and `as_of`). Needs no
    Temporal server: the policy engine answers directly."""
    return preview(body)
