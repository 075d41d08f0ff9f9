"""Small helpers for tests (importable as `tests.support`)."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
)
from temporalio.client import WorkflowHandle

if TYPE_CHECKING:
    from readmodel.applications import ApplicationRow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def new_application_no() -> str:
    return f"T{uuid.uuid4().hex[:12].upper()}"


async def search_attributes(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    """A workflow's search attributes, decoded leniently.

    The time-skipping test server reports an unset Datetime attribute in a form the SDK's
    typed decoder rejects; the real server does not. Unset values come back as None here.
    """
    info = (await describe_raw(handle)).workflow_execution_info
    fields = info.search_attributes.indexed_fields
    out: dict[str, Any] = {}
    for name, payload in fields.items():
        value = json.loads(payload.data) if payload.data else None
        if isinstance(value, list):
            value = value[0] if value else None
        out[name] = value
    return out


async def describe_raw(handle: WorkflowHandle[Any, Any]) -> DescribeWorkflowExecutionResponse:
    """The server's description, without the SDK's typed decoding (see search_attributes)."""
    return await handle._client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=handle._client.namespace,
            execution=WorkflowExecution(workflow_id=handle.id),
        )
    )


def application_row(
    no: str,
    unit: str = "henan/sanmenxia",
    *,
    business_type: str = "hv",
    manager: str | None = "cm-001",
    at: datetime | None = None,
) -> ApplicationRow:
    """A running application's read-model row, for tests and benchmarks that need rows
    without workflows behind them."""
    from readmodel.applications import ApplicationRow

    at = at or datetime.now(UTC)
    return ApplicationRow(
        application_no=no, unit=unit, business_type=business_type, state="running",
        stage="site_survey", customer_manager=manager, accepted_at=at, updated_at=at,
        customer_name="测试",
    )  # fmt: skip


def problem(r: Any, status: int) -> dict[str, Any]:
    """The answer's problem body, after checking it is one (RFC 9457, the API's error shape)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def problem_fields(r: Any, status: int = 422) -> list[str]:
    """The fields a problem answer names."""
    return [e["field"] for e in problem(r, status)["errors"]]


def add_rest_day(data: Path, day: date) -> None:
    """An amendment to `day`'s year, or the year's first publication if it had no file."""
    path = data / "CN" / f"{day.year}.toml"
    entry = f'{{ name = "测试调休", start = {day.isoformat()}, end = {day.isoformat()} }}'
    if path.exists():
        with path.open("a", encoding="utf-8") as f:
            f.write(
                "\n[[amendments]]\n"
                'title = "测试：临时增加休息日"\n'
                'number = "测试〔1〕1号"\n'
                f"published = {date.today().isoformat()}\n"
                f"add_holidays = [{entry}]\n"
            )
    else:
        path.write_text(
            f'region = "CN"\nyear = {day.year}\n\n[notice]\n'
            f'title = "测试：{day.year}年部分节假日安排"\nnumber = "测试〔1〕1号"\n'
            f"published = {date.today().isoformat()}\n\n[[holidays]]\n"
            f'name = "测试调休"\nstart = {day.isoformat()}\nend = {day.isoformat()}\n',
            encoding="utf-8",
        )


# -- sign-in --------------------------------------------------------------------------------

#: Who tests of other things act as: every permission in every unit.
TEST_SUPERUSER_CODE = "test-admin"


def _superuser() -> Any:
    from core.access import Principal

    return Principal.of(TEST_SUPERUSER_CODE, "henan", ["admin"], superuser=True)


@contextmanager
def as_superuser() -> Iterator[None]:
    """Every app built meanwhile (api.app.create_app) signs its callers in as a superuser,
    through FastAPI's dependency_overrides on CurrentUser; production apps never do."""
    import api.app
    from api.auth import current_user

    original = api.app.GridConnectionAPI

    class TestAPI(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.dependency_overrides[current_user] = _superuser

    api.app.GridConnectionAPI = TestAPI  # type: ignore[misc]
    try:
        yield
    finally:
        api.app.GridConnectionAPI = original  # type: ignore[misc]


def secured(app: Any) -> Any:
    """The app with the production rule back: a bearer token, checked (api/auth.py)."""
    from api.auth import current_user

    app.dependency_overrides.pop(current_user, None)
    return app
