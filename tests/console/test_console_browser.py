"""The console in a real browser: Debian's chromium, headless, driven by Playwright (which
never downloads a browser of its own here), against the app served by uvicorn on a real
Temporal dev server with a worker.

The flow: my applications → one application → record an event from the page and see the
warning level and the stage move, then a refusal shown as it is. Screenshots go to
test-artifacts/ (git-ignored). Skipped, with the reason printed, where chromium is missing
(`apt-get install -y chromium`, as .ci/run does).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.config import Settings
from readmodel.applications import ApplicationRow
from tests.support import free_port, new_application_no
from tests.test_api_schemathesis import Server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TZ = ZoneInfo("Asia/Shanghai")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Bounds on waiting for the page or the read model; far above what they take.
TIMEOUT_MS = 20_000


@pytest.fixture
def console_url(
    dev_env: WorkflowEnvironment, session_engine: Engine, tmp_path: Path
) -> Iterator[str]:
    """The app on a free port, on the dev server and on the database the session's worker
    projects into (so the console reads what the workflows wrote)."""
    if CHROMIUM is None:
        reason = (
            "chromium is not installed (apt-get install -y chromium): console browser test skipped"
        )
        print(reason)
        pytest.skip(reason)
    settings = Settings(
        temporal_address=dev_env.client.service_client.config.target_host,
        database_url=session_engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        log_level="WARNING",
    )
    port = free_port()
    with Server(settings, port):
        yield f"http://127.0.0.1:{port}"


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


async def projected(engine: Engine, no: str, **wanted: object) -> None:
    """Wait until the workflow has projected the application with these column values."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        with Session(engine) as s:
            row = s.get(ApplicationRow, no)
            if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{no} was not projected with {wanted}")


async def test_record_an_event_and_see_the_warning_and_stage_move(
    console_url: str, dev_worker: Worker, session_engine: Engine
) -> None:
    no, manager = new_application_no(), f"cm-ui-{int(time.time()) % 100000}"
    accepted = datetime.now(TZ) - timedelta(days=3)
    async with httpx.AsyncClient(base_url=console_url, timeout=30) as api:
        created = await api.post(
            "/api/applications",
            json={
                "application_no": no,
                "unit": "henan/sanmenxia",
                "business_type": "hv",
                "voltage": "10kV",
                "capacity_kva": 630,
                "channel": "online",
                "accepted_at": accepted.isoformat(),
                "customer": {"name": "浏览器测试客户"},
                "customer_manager": manager,
            },
        )
        assert created.status_code == 201, created.text
    await projected(session_engine, no, stage="plan_reply", warning_level=None)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{console_url}/console/my?customer_manager={manager}")
            row = page.locator(f'tr[data-application="{no}"]')
            await expect(row).to_contain_text("办理【供电方案答复】")
            await shot(page, "1-my-applications")

            await row.locator("a").click()
            await expect(page.locator("h1")).to_have_text(f"申请 {no}")
            await expect(page.locator("#warning-level")).to_have_attribute("data-level", "")
            await expect(page.locator("#stage")).to_have_attribute("data-stage", "plan_reply")
            await expect(page.locator("#timeline g.monitor").first).to_be_visible()
            await shot(page, "2-application")

            # The online appointment was made before the acceptance, three days ago: its
            # 18-hour contact limit passed long since, and the yellow warning comes at once.
            await page.select_option("#event", "appointment_confirm.started")
            await page.fill("#at", f"{accepted - timedelta(hours=2):%Y-%m-%dT%H:%M}")
            await page.click("#record")
            await expect(page.locator("#event-ok")).to_contain_text("appointment_confirm.started")
            await expect(page.locator("#warning-level")).to_have_attribute("data-level", "yellow")
            await expect(page.locator("#timeline .warning-mark").first).to_be_visible()
            await shot(page, "3-warning-raised")

            # The customer reports the works complete: the stage moves to the inspection.
            await page.select_option("#event", "completion_inspection.started")
            await page.fill("#at", "")
            await page.click("#record")
            await expect(page.locator("#stage")).to_have_attribute(
                "data-stage", "completion_inspection"
            )
            await expect(page.locator("#stage")).to_have_text("竣工检验")
            await shot(page, "4-stage-moved")

            # Out of order: refused by the workflow, shown as it answered, nothing recorded.
            await page.select_option("#event", "energize.completed")
            await page.click("#record")
            await expect(page.locator("#event-refused")).to_contain_text("wrong order")
            await shot(page, "5-refused")

            await page.goto(f"{console_url}/console/warnings?unit=henan/sanmenxia")
            await expect(page.locator("#warning-board")).to_contain_text(no)
            await shot(page, "6-warning-board")
            await page.goto(f"{console_url}/console/reports")
            await expect(page.locator("h1")).to_have_text("统计报表")
            await shot(page, "7-reports")
        finally:
            await browser.close()
    await projected(session_engine, no, stage="completion_inspection", warning_level="yellow")
