"""Sign-in dependencies: who is calling (`CurrentUser`), what they may do (`require`), which
units they see (`UnitScope`), and the routes that need nobody (`PUBLIC`).

Every route declares one of them (tests/test_access.py walks the app, and `create_app`
refuses to build an app with an undeclared route):

    @router.post("/x", dependencies=[require("applications.record")])
    router = APIRouter(prefix="/y", dependencies=[PUBLIC])

401 without a token or with an expired or tampered one; 403 `forbidden` naming the missing
permission. The console's pages carry the same token in a cookie (api/console/access.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import fastapi.routing
from fastapi import Depends, HTTPException, Query, Request, params, status
from fastapi.security import OAuth2PasswordBearer

from api.deps import EngineDep, SettingsDep
from core.access import PERMISSIONS, Principal
from core.security import InvalidToken, password_stamp, token_claims
from policies.codes import UNIT_CODE_RE
from readmodel.accounts import find_active

TOKEN_URL = "/api/auth/token"
#: The console keeps the token in this cookie (httponly, SameSite=Lax).
CONSOLE_COOKIE = "console_token"
#: Where the cookie counts: the console's pages, and the codec server for Temporal UI (which
#: sends it with "include cross-origin credentials"). Every other route needs the header.
COOKIE_PATHS = ("/console/", "/codec/")

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="A staff token from POST /api/auth/token (username: the staff code)",
)


def unauthorized(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail={"type": "unauthorized", "field": "authorization", "reason": reason},
        headers={"WWW-Authenticate": "Bearer"},
    )


def current_user(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The signed-in member of staff the bearer token names (the console and the codec
    server: the sign-in cookie too)."""
    if token is None and request.url.path.startswith(COOKIE_PATHS):
        token = request.cookies.get(CONSOLE_COOKIE)
    if not token:
        raise unauthorized("sign in first: POST /api/auth/token, then send the bearer token")
    try:
        claims = token_claims(settings, token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None
    row = find_active(engine, claims.subject)
    if row is None:
        raise unauthorized("the token's staff member is unknown or inactive")
    if claims.stamp is not None and claims.stamp != password_stamp(settings, row.password_hash):
        raise unauthorized("the password was changed after this token was issued: sign in again")
    return Principal.of(row.code, row.unit, row.roles, row.department, row.superuser)


CurrentUser = Annotated[Principal, Depends(current_user)]


def forbidden(permission: str) -> HTTPException:
    return HTTPException(
        status.HTTP_403_FORBIDDEN,
        detail={
            "type": "forbidden",
            "field": "permission",
            "reason": f"needs the permission {permission} (docs/access.md)",
        },
    )


@cache
def _checker(permission: str) -> Callable[[Principal], Principal]:
    def check(user: CurrentUser) -> Principal:
        if not user.may(permission):
            raise forbidden(permission)
        return user

    check.permission = permission  # type: ignore[attr-defined]
    check.__name__ = f"require_{permission.replace('.', '_')}"
    return check


def require(permission: str) -> params.Depends:
    """A route's declared permission, for `dependencies=[...]` (or `user: Annotated[Principal,
    require(...)]` when the route needs the member too)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r} (core/access.py)")
    declared: params.Depends = Depends(_checker(permission))
    return declared


def public() -> None:
    """Declares a route open to anyone: it carries no personal data, or checks a signature
    of its own (webhooks)."""


PUBLIC = Depends(public)

#: Routes FastAPI and the offline docs add themselves: public.
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/redoc", "/static/docs"})


def _calls(dependant: Any) -> Iterator[Any]:
    for dep in getattr(dependant, "dependencies", ()):
        yield dep.call
        yield from _calls(dep)


def declaration(route: Any) -> frozenset[str] | None:
    """{'public'}, the permissions a route requires (all of them), or None when it declares
    neither."""
    if getattr(route, "path", None) in PUBLIC_PATHS:
        return frozenset({"public"})
    found: set[str] = set()
    for call in _calls(getattr(route, "dependant", None)):
        if call is public:
            return frozenset({"public"})
        permission = getattr(call, "permission", None)
        if permission is not None:
            found.add(permission)
    return frozenset(found) or None


def route_declarations(app: Any) -> list[tuple[str, frozenset[str], frozenset[str] | None]]:
    """(path, methods, declaration) of every route, nested routers included."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = flatten(app.routes) if flatten is not None else app.routes
    out = []
    for r in routes:
        route = getattr(r, "route", r)
        out.append((r.path, frozenset(getattr(r, "methods", None) or ()), declaration(route)))
    return out


def check_declared(app: Any) -> None:
    undeclared = [f"{sorted(m)} {p}" for p, m, d in route_declarations(app) if d is None]
    if undeclared:
        raise RuntimeError(
            "routes without a permission or PUBLIC (api/auth.py): " + ", ".join(undeclared)
        )


# -- unit scope -------------------------------------------------------------------------------


def scoped_unit(
    user: CurrentUser,
    unit: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            pattern=UNIT_CODE_RE.pattern,
            description="This unit and the units under it (the caller's own unit by default)",
        ),
    ] = None,
) -> str | None:
    """The `unit` filter of a list, board or report, within the caller's scope: absent, the
    caller's own unit (everything for a superuser); outside their scope, 404 as if it did not
    exist."""
    if user.superuser:
        return unit
    if unit is None:
        return user.unit
    if not user.sees(unit):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"field": "unit", "reason": f"no unit {unit}"}
        )
    return unit


UnitScope = Annotated[str | None, Depends(scoped_unit)]


@dataclass(frozen=True)
class Actor:
    """Who made a change and from where, for the audit trail."""

    code: str
    address: str | None
    #: The member's unit: where a change that names no application belongs.
    unit: str | None = None


def actor(request: Request, user: CurrentUser) -> Actor:
    return Actor(user.code, request.client.host if request.client else None, user.unit)


ActorDep = Annotated[Actor, Depends(actor)]
