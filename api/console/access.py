"""Who is looking at the console.

Every console page goes through `console_access` (the router's one dependency): today it lets
everyone who reaches the API in, as the API itself does. Sign-in makes it the API's
CurrentUser dependency, in this one place.

Until then "my applications" are those of a customer manager named by the `customer_manager`
query parameter, remembered in a cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from contracts.organisation import STAFF_CODE_RE

COOKIE = "console_customer_manager"


def console_access() -> None:
    """Open, as the API is; the sign-in's CurrentUser goes here."""


@dataclass(frozen=True)
class Viewer:
    #: The staff code whose applications "my applications" lists; None: not chosen yet.
    customer_manager: str | None

    def remember(self, response: Response) -> None:
        if self.customer_manager:
            response.set_cookie(COOKIE, self.customer_manager, httponly=True, samesite="lax")


def current_viewer(
    request: Request,
    customer_manager: Annotated[str | None, Query(max_length=64)] = None,
) -> Viewer:
    chosen = customer_manager or request.cookies.get(COOKIE)
    if chosen and not STAFF_CODE_RE.fullmatch(chosen):
        chosen = None  # not a staff code: ignored rather than echoed
    return Viewer(chosen)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
