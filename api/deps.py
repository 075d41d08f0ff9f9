"""FastAPI dependencies, as `Annotated` aliases (the full-stack template's style)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from api.grid_provider import DatabaseGrid
from core.config import Settings
from policies.plans.preview import GridProvider


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_db(engine: Annotated[Engine, Depends(get_db_engine)]) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def get_grid_provider(engine: Annotated[Engine, Depends(get_db_engine)]) -> GridProvider:
    """Where plans read the grid near a customer: the grid tables of the read model."""
    return DatabaseGrid(engine)


async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_db_engine)]
SessionDep = Annotated[Session, Depends(get_db)]
TemporalDep = Annotated[Client, Depends(get_temporal)]


def require_admin(
    request: Request,
    settings: SettingsDep,
    x_admin_token: Annotated[
        str | None,
        Header(max_length=256, description="The admin token, when the deployment sets one"),
    ] = None,
) -> None:
    """Changes to the organisation, the outbox and the calendars need the admin token when
    one is configured (ADMIN_TOKEN); without one, the deployment trusts its network."""
    expected = settings.admin_token
    if expected is None:
        return
    given = (x_admin_token or "").encode()
    if not secrets.compare_digest(given, expected.get_secret_value().encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "type": "forbidden",
                "field": "x-admin-token",
                "reason": f"{request.method} {request.url.path} needs the admin token",
            },
        )


#: A route parameter that answers 403 unless the admin token is given (when one is set).
AdminDep = Annotated[None, Depends(require_admin)]


GridDep = Annotated[GridProvider, Depends(get_grid_provider)]
