"""Who is looking at the console.

The console's pages need a signed-in member: the same token as the API's, kept in an httponly
cookie (`console_token`, SameSite=Lax) by the sign-in page here, and read by the API's
CurrentUser (api/auth.py) on /console/ paths only. A page asked for without it redirects here.

"My applications" are those of the signed-in member, or of the customer manager named by the
`customer_manager` query parameter, remembered in a cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from api.auth import CONSOLE_COOKIE, PUBLIC, CurrentUser
from api.console.pages import render
from api.deps import EngineDep, SettingsDep
from api.problems import errors_from_detail
from api.routes.auth import issue_token
from contracts.organisation import STAFF_CODE_RE

COOKIE = "console_customer_manager"
SIGN_IN = "/console/sign-in"

sign_in_router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[PUBLIC])


@sign_in_router.get("/sign-in")
def sign_in_page() -> HTMLResponse:
    return render("sign_in.html", reasons=[], nav="sign-in")


@sign_in_router.post("/sign-in")
def sign_in(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
) -> Response:
    try:
        token = issue_token(request, settings, engine, username, password)
    except HTTPException as exc:
        errors, detail, _ = errors_from_detail(exc.detail)
        reasons = [e.reason for e in errors] or [detail or "登录失败"]
        return render("sign_in.html", status_code=exc.status_code, reasons=reasons, nav="sign-in")
    response = RedirectResponse("/console/my", status_code=303)
    response.set_cookie(
        CONSOLE_COOKIE,
        token.access_token,
        max_age=settings.access_token_minutes * 60,
        httponly=True,
        samesite="lax",
        path="/",
    )
    return response


@sign_in_router.post("/sign-out")
def sign_out() -> Response:
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(CONSOLE_COOKIE, path="/")
    return response


@dataclass(frozen=True)
class Viewer:
    #: The staff code whose applications "my applications" lists; None: not chosen yet.
    customer_manager: str | None

    def remember(self, response: Response) -> None:
        if self.customer_manager:
            response.set_cookie(COOKIE, self.customer_manager, httponly=True, samesite="lax")


def current_viewer(
    request: Request,
    user: CurrentUser,
    customer_manager: Annotated[str | None, Query(max_length=64)] = None,
) -> Viewer:
    chosen = customer_manager or request.cookies.get(COOKIE)
    if chosen and not STAFF_CODE_RE.fullmatch(chosen):
        chosen = None  # not a staff code: ignored rather than echoed
    return Viewer(chosen or user.code)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
