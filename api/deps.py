"""FastAPI dependencies, as `Annotated` aliases (the full-stack template's style)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
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


GridDep = Annotated[GridProvider, Depends(get_grid_provider)]
