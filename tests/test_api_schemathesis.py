"""Schemathesis (`--checks all`) against the API, served by uvicorn on a free port, on a real
Temporal dev server with a worker: every operation, positive and negative data, the coverage
and stateful phases. Zero failures.

Bounded by examples per operation (`MAX_EXAMPLES`, or SCHEMATHESIS_MAX_EXAMPLES) and a fixed
seed (SCHEMATHESIS_SEED to try another), so a run takes a couple of minutes and a failure
reproduces. Select it with `pytest -k schemathesis`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from core.config import Settings
from core.security import create_token
from tests.support import free_port, secured

HERE = Path(__file__).resolve().parent
#: Per operation. The suite's run keeps the whole suite's time in bounds; `make schemathesis`
#: runs it alone with five times as many.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261201")
#: A hard bound on the run, far above what it takes: a hang fails instead of stalling CI.
TIMEOUT_S = 900

#: Every exclusion, with its reason. Each turns off one check for one operation only; every
#: other check still runs on it, and every check runs on every other operation.
EXCLUSIONS = [
    (
        "/api/applications",
        "POST",
        "positive_data_acceptance",
        # accepted_at may lie at most 7 days in the past and 5 minutes in the future of the
        # moment the request arrives (api.schemas.MAX_BACKDATE): a rule relative to "now",
        # which JSON Schema cannot state. Schema-valid instants outside it get a 422.
    ),
    (
        "/api/deadline-preview",
        "POST",
        "positive_data_acceptance",
        # An event may not precede accepted_at, and its code must be a stage or notice of the
        # unit's own pack: comparisons between fields and per-pack vocabularies that JSON
        # Schema cannot state. Schema-valid events that break them get a 422.
    ),
    *(
        (
            f"/api/applications/{{application_no}}/{update}",
            "POST",
            "positive_data_acceptance",
            # The workflow judges an event or a hold against the clock and the application's
            # own record: not in the future, not before the acceptance or the previous event,
            # a stage that applies to this application. Schema-valid instants and events that
            # break those rules get a 422 naming the field; no schema can state them.
        )
        for update in ("events", "pause", "resume")
    ),
    *(
        (
            f"/api/reports/{report}",
            "GET",
            "positive_data_acceptance",
            # A range whose `to` comes before its `from` gets a 422 naming `to`: a comparison
            # between two parameters, which JSON Schema cannot state.
        )
        for report in ("connection-time", "stage-times", "warnings", "lists", "penalties")
    ),
    (
        "/api/applications/{application_no}/plan/approve",
        "POST",
        "positive_data_acceptance",
        # The approval records plan_reply.completed: judged as the events above are (the
        # stage applies, the order, the clock); schema-valid approvals that break them get a 422.
    ),
    (
        "/api/applications/{application_no}/notices",
        "POST",
        "positive_data_acceptance",
        # A notice kind is issued only where the application's pack has a limit for it (a
        # 10 kV application has no protection settings at 380 V, a low-voltage one no joint
        # drawing review): the pack's data, which no schema states (422 naming `kind`).
    ),
    (
        "/api/applications/{application_no}/plan/joint-review",
        "POST",
        "positive_data_acceptance",
        # The reviewers' connection point must be one of the grid's points near the customer,
        # and their works type must have a limit at the plan's voltage: data in the grid tables
        # and the pack, which no schema states (422 naming `connection_point`).
    ),
    *(
        (
            f"/api/applications/{{application_no}}/{plan}",
            "GET",
            "ensure_resource_availability",
            # An application has a plan only once its pack's trigger has happened (low voltage
            # at acceptance, 10 kV and above at site_survey.completed): until then its plan is
            # a 404 naming `plan`, though the application exists.
        )
        for plan in ("plan", "plan.pdf")
    ),
    *(
        (
            path,
            "GET",
            "positive_data_acceptance",
            # As the reports: a window whose `to` is not after its `from` gets a 422 naming
            # `to`, a comparison between two parameters that JSON Schema cannot state.
        )
        for path in ("/api/outages", "/api/outages.ics")
    ),
    (
        "/api/staff/import",
        "POST",
        "positive_data_acceptance",
        # The body is a CSV file: a string to JSON Schema. Its rules (the header, one line per
        # staff code, known roles and units) live in the file's text, which no schema
        # keyword describes; a schema-valid string is rarely a valid file (422 with a report).
    ),
    *(
        (
            path,
            "POST",
            "positive_data_acceptance",
            # As the staff import: the body is a file (JSON lines, CSV), a string to JSON
            # Schema; each record's fields, history and rules live in its text (422 naming
            # the line and field).
        )
        for path in ("/api/applications/import", "/api/applications/import.csv")
    ),
    *(
        (
            f"/api/grid/{kind}/import",
            "POST",
            "positive_data_acceptance",
            # As the staff import: the body is a CSV file, a string to JSON Schema; its header,
            # its cells' types and references live in the text (422 naming each line).
        )
        for kind in ("substations", "feeders", "transformers", "connection-points", "customers")
    ),
]


#: Operations not run at all, with the reason.
SKIPPED = [
    (
        "/api/calendars/{region}/publish",
        "POST",
        # Publishing signals every running application (hundreds here, started by this run),
        # which makes each call as slow as the fan-out; its idempotence and its behaviour
        # under concurrent publishes have tests of their own (test_api_calendar_publish.py).
    ),
]
ADMIN = "schemathesis-admin"


def config_toml() -> str:
    # Every check (`--checks all`), set here rather than on the command line, where it would
    # override the per-operation exclusions below.
    blocks = ["[checks]\nenabled = true\n"]
    for path, method in SKIPPED:
        # One operation by its label: include-path and include-method would each match alone.
        blocks.append(f'[[operations]]\ninclude-name = "{method} {path}"\nenabled = false\n')
    for path, method, check in EXCLUSIONS:
        blocks.append(
            f'[[operations]]\ninclude-name = "{method} {path}"\nchecks.{check}.enabled = false\n'
        )
    return "\n".join(blocks)


class Server:
    """uvicorn in a thread of its own, with its own event loop and Temporal client."""

    def __init__(self, settings: Settings, port: int, *, secure: bool = False) -> None:
        # secure: the production rule (a bearer token, checked), so that the auth checks see
        # it; otherwise the tests' superuser (tests/support.py).
        app = create_app(settings)
        config = uvicorn.Config(
            secured(app) if secure else app, host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def api_url(dev_env: WorkflowEnvironment, tmp_path: Path) -> Iterator[tuple[str, str]]:
    # A database of its own: what schemathesis creates (units, staff) stays out of the
    # session's, which other tests' workers read recipients from.
    settings = Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        data_dir=tmp_path,
        log_level="WARNING",
        # Every route is tested as the bootstrap administrator, with a real token.
        bootstrap_admin_username=ADMIN,
        bootstrap_admin_password=SecretStr("schemathesis-password"),
        jwt_secret=SecretStr("schemathesis-signing-key-of-32-bytes!"),
    )
    port = free_port()
    with Server(settings, port, secure=True):
        yield f"http://127.0.0.1:{port}", create_token(settings, ADMIN).access_token


async def test_schemathesis_finds_no_failure(
    api_url: tuple[str, str], dev_worker: Worker, tmp_path: Path
) -> None:
    """The worker runs in this test's event loop while schemathesis runs as a process."""
    url, token = api_url
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_toml(), encoding="utf-8")
    report = tmp_path / "report"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--report",
        "junit",
        "--report-dir",
        str(report),
        "--no-color",
        # The unit code's pattern (a path of lowercase segments) leaves hypothesis filtering
        # many strings it drew; with some budgets it calls that unhealthy. A generation
        # matter, not an answer of the API: every check still runs on what it does draw.
        "--suppress-health-check=filter_too_much",
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
    }
    proc = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    except TimeoutError:
        proc.kill()
        raise
    text = out.decode("utf-8", "replace")
    summary = text[text.rfind("SUMMARY") :] if "SUMMARY" in text else text[-3000:]
    print(text)
    assert proc.returncode == 0, summary
    assert " 0 failures" in summary or "failure" not in summary.lower(), summary
