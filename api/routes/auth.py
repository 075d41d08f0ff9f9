"""Sign-in: the OAuth2 password flow (`POST /api/auth/token`, form fields `username` and
`password`) issuing short-lived JWTs, and `GET /api/auth/me`.

Failed sign-ins are counted per username and per client address in a sliding window
(SIGNIN_FAILURES_PER_USER, SIGNIN_FAILURES_PER_ADDRESS, SIGNIN_WINDOW_S); past either limit the
answer is 429 with `Retry-After`, even for the right password, until the window moves on. The
counts are per API process. Neither the password nor the token is ever logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import Engine

from api.auth import PUBLIC, CurrentUser, require
from api.deps import EngineDep, SettingsDep
from api.problems import problems
from core.access import PERMISSIONS
from core.config import Settings
from core.security import Token, create_token, password_stamp
from readmodel.accounts import signing_in

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/auth", tags=["sign-in"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    #: Seconds until the token expires.
    expires_in: int


class Me(BaseModel):
    code: str
    unit: str
    roles: list[str]
    department: str
    superuser: bool
    permissions: list[str]


class FailedSignIns:
    """Failure instants per key (a username, an address) within the window."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        return times

    def retry_after(self, key: str, limit: int, window: float) -> int | None:
        """Seconds until `key` may try again, or None when it may now."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, window, now)
            if len(times) < limit:
                return None
            return max(1, int(times[0] + window - now) + 1)

    def fail(self, key: str, window: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(key, window, now).append(now)
            if len(self._seen) > 100_000:  # bounded memory under a spray of usernames
                self._seen = {k: v for k, v in self._seen.items() if v}

    def clear(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)


def failed_sign_ins(request: Request) -> FailedSignIns:
    found: FailedSignIns | None = getattr(request.app.state, "failed_sign_ins", None)
    if found is None:
        found = request.app.state.failed_sign_ins = FailedSignIns()
    return found


def _too_many(seconds: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail={
            "type": "too-many",
            "field": "username",
            "reason": f"too many failed sign-ins; retry in {seconds} s",
        },
        headers={"Retry-After": str(seconds)},
    )


def issue_token(
    request: Request, settings: Settings, engine: Engine, username: str, password: str
) -> Token:
    """A token for this username and password, or 401; 429 past the failure limits."""
    limits = failed_sign_ins(request)
    window = float(settings.signin_window_s)
    address = request.client.host if request.client else "unknown"
    keys = ((f"user:{username}", settings.signin_failures_per_user),
            (f"address:{address}", settings.signin_failures_per_address))  # fmt: skip
    for key, limit in keys:
        wait = limits.retry_after(key, limit, window)
        if wait is not None:
            log.warning("sign-in refused: too many failures (%s)", key.partition(":")[0])
            raise _too_many(wait)
    row = signing_in(engine, username, password)
    if row is None:
        for key, _ in keys:
            limits.fail(key, window)
        log.info("failed sign-in from %s", address)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail={
                "type": "unauthorized",
                "field": "password",
                "reason": "unknown username, wrong password or inactive account",
            },
            headers={"WWW-Authenticate": "Bearer"},
        )
    limits.clear(keys[0][0])
    return create_token(settings, row.code, stamp=password_stamp(settings, row.password_hash))


@router.post(
    "/token",
    response_model=TokenAnswer,
    dependencies=[PUBLIC],
    responses=problems(401, 422, 429),
)
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: SettingsDep,
    engine: EngineDep,
) -> TokenAnswer:
    """Form fields `username` (the staff code) and `password`; answers a bearer token."""
    token = issue_token(request, settings, engine, form.username, form.password)
    return TokenAnswer(
        access_token=token.access_token, expires_in=settings.access_token_minutes * 60
    )


@router.get("/me", response_model=Me, dependencies=[require("reference.read")])
def me(user: CurrentUser) -> Me:
    """The signed-in member: their unit, roles and permissions."""
    granted = sorted(PERMISSIONS) if user.superuser else sorted(user.permissions)
    return Me(
        code=user.code,
        unit=user.unit,
        roles=list(user.roles),
        department=user.department,
        superuser=user.superuser,
        permissions=granted,
    )
