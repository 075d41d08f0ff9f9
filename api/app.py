"""The HTTP API: `uvicorn api.app:app`. OpenAPI docs at /docs (Swagger UI) and /redoc, served
offline; every error answer is a problem (api.problems)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client

from api import problems
from api.auth import check_declared, route_declarations
from api.console import access as console_access
from api.console import routes as console
from api.docs import mount_docs
from api.routes import (
    application_plans,
    applications,
    audit,
    auth,
    calendars,
    capacity,
    codec,
    grid,
    health,
    imports,
    integrations,
    metrics,
    notices,
    notifications,
    operations,
    outages,
    plans,
    preview,
    reports,
    staff,
    units,
    warnings,
    webhooks,
)
from core.config import Settings, get_settings
from core.db import get_engine
from core.logging import configure_logging
from core.temporal import connect
from readmodel import init_db
from readmodel.accounts import ensure_superuser

log = logging.getLogger("api")


def attach(app: FastAPI, settings: Settings, engine: Engine, temporal: Client) -> None:
    """What the dependencies in api.deps read; tests attach their own."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.temporal = temporal


class GridConnectionAPI(FastAPI):
    def openapi(self) -> dict[str, Any]:
        # The error responses are rewritten as problems on every call: cheap, and it follows
        # FastAPI's own cache of the generated document.
        schema = problems.problem_openapi(webhooks.body_schemas(super().openapi()))
        return permissions_openapi(self, schema)


def permissions_openapi(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Each protected operation names its permissions and answers 401 and 403; a public one
    needs no token (`security: []`)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    for path, methods, declared in route_declarations(app):
        item = schema.get("paths", {}).get(path)
        if item is None or declared is None:
            continue
        for method in methods:
            op = item.get(method.lower())
            if op is None:
                continue
            if "public" in declared:
                op["security"] = []
                continue
            needs = ", ".join(f"`{p}`" for p in sorted(declared))
            op["description"] = f"{op.get('description', '')}\n\nNeeds {needs}.".strip()
            responses = op.setdefault("responses", {})
            for code, text in (
                (401, problems.DESCRIPTIONS[401]),
                (403, problems.DESCRIPTIONS[403]),
            ):
                responses.setdefault(str(code), {"description": text})
                responses[str(code)]["content"] = {problems.PROBLEM_JSON: {"schema": ref}}
    return schema


def bootstrap_admin(settings: Settings, engine: Engine) -> None:
    """The first administrator, from BOOTSTRAP_ADMIN_USERNAME / _PASSWORD (both or neither)."""
    name, password = settings.bootstrap_admin_username, settings.bootstrap_admin_password
    if name and password:
        if ensure_superuser(engine, name, password.get_secret_value()):
            log.info("bootstrap administrator %s ready", name)
    elif name or password:
        log.warning("BOOTSTRAP_ADMIN_USERNAME and BOOTSTRAP_ADMIN_PASSWORD go together: ignored")


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "temporal", None) is not None:
            yield  # already attached (tests)
            return
        s = settings or get_settings()
        configure_logging(s.log_level)
        engine = get_engine(s)
        init_db(engine)
        bootstrap_admin(s, engine)
        # Lazy: the API comes up even while Temporal is down and answers 503 until it is back.
        attach(app, s, engine, await connect(s, lazy=True))
        log.info("API ready; Temporal at %s", s.effective_temporal_address)
        yield

    app = GridConnectionAPI(
        title="Grid-connection applications",
        description=(
            "用电报装 / 业扩报装: applications, deadlines and warnings on Temporal. Errors are "
            "RFC 9457 problems (`application/problem+json`); instants are in the zone of the "
            "application's unit, with their offset (docs/api.md)."
        ),
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    mount_docs(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(imports.router)
    app.include_router(applications.router)
    app.include_router(warnings.router)
    app.include_router(preview.router)
    app.include_router(calendars.router)
    app.include_router(units.router)
    app.include_router(staff.router)
    app.include_router(notifications.router)
    app.include_router(grid.router)
    app.include_router(capacity.router)
    app.include_router(plans.router)
    app.include_router(reports.router)
    app.include_router(console_access.sign_in_router)
    app.include_router(console.router)
    app.include_router(metrics.router)
    app.include_router(operations.router)
    app.include_router(application_plans.router)
    app.include_router(webhooks.router)
    app.include_router(integrations.router)
    app.include_router(outages.router)
    app.include_router(notices.router)
    app.include_router(audit.router)
    app.include_router(codec.router)
    app.add_middleware(codec.CodecCORS, origins=(settings or get_settings()).codec_origins)
    # A route that declares neither a permission nor PUBLIC would be open to anyone.
    check_declared(app)
    return app


app = create_app()
