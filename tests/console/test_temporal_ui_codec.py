"""Temporal UI shows a decrypted payload in a real browser, while the history holds only
ciphertext: the embedded dev server with its UI pointed at the API's codec server
(`--ui-codec-endpoint`, as `make run` starts it), an application input encrypted by the
project's codec, and Debian's chromium (headless, Playwright) signed in as an operator.

The UI is told to send the sign-in cookie with its codec calls ("include cross-origin
credentials" in its codec settings, kept in the browser's localStorage), as docs/access.md
asks operators to. Skipped, with the reason printed, where chromium is missing.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright, expect
from pydantic import SecretStr
from sqlmodel import Session
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts import search_attributes
from core.codec import ENCODING, data_converter
from core.config import Settings
from core.db import make_engine
from core.security import hash_password
from readmodel import init_db
from readmodel.demo_org import seed_demo_org
from readmodel.organisation import StaffRow
from tests.console.test_console_browser import ARGS, CHROMIUM, shot
from tests.support import free_port, new_application_no
from tests.test_api_schemathesis import Server

KEYS = "ui1:" + base64.b64encode(bytes(range(100, 132))).decode()
CUSTOMER = "加密测试客户甲"
OPERATOR, PASSWORD = "op-ui", "operator-password"
TIMEOUT_MS = 30_000
#: Temporal UI's own codec settings (its dialog stores them so): this endpoint, overriding the
#: server's, with cross-origin credentials.
SETTINGS_JS = """([endpoint]) => {
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
    localStorage.setItem('includeCredentials', 'true');
}"""


@dataclass
class Stack:
    env: WorkflowEnvironment
    ui: str
    api: str


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    if CHROMIUM is None:
        reason = "chromium is not installed (apt-get install -y chromium): UI codec test skipped"
        print(reason)
        pytest.skip(reason)
    ui_port, api_port = free_port(), free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    api = f"http://127.0.0.1:{api_port}"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=data_converter(KEYS),
        search_attributes=search_attributes.ALL,
        ui=True,
        ui_port=ui_port,
        dev_server_extra_args=["--ui-codec-endpoint", f"{api}/codec"],
    )
    settings = Settings(
        temporal_address=env.client.service_client.config.target_host,
        data_dir=tmp_path,
        log_level="WARNING",
        payload_keys=SecretStr(KEYS),
        jwt_secret=SecretStr("ui-codec-signing-key-0123456789abcdef"),
        codec_cors_origins=ui,
    )
    engine = make_engine(settings.effective_database_url)
    init_db(engine)
    seed_demo_org(engine)
    with Session(engine) as s:
        s.add(
            StaffRow(
                code=OPERATOR,
                name="运维",
                roles=["operator"],
                unit="henan",
                phone="13800009997",
                password_hash=hash_password(PASSWORD),
            )
        )
        s.commit()
    engine.dispose()
    async with env:
        with Server(settings, api_port, secure=True):
            yield Stack(env, ui, api)


async def test_the_ui_decodes_what_the_history_holds_encrypted(stack: Stack) -> None:
    workflow_id = f"app-{new_application_no()}"
    await stack.env.client.start_workflow(
        "ConnectionApplication",
        {"application": {"customer": {"name": CUSTOMER}}},
        id=workflow_id,
        task_queue="no-worker-polls-this",
    )
    # What the server holds, read without the keys: ciphertext only.
    plain_client = await Client.connect(
        stack.env.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
    )
    history = await plain_client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.input.payloads[0].metadata["encoding"] == ENCODING
    raw = b"".join(e.SerializeToString() for e in history.events)
    assert CUSTOMER.encode() not in raw

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            # The operator signs in once (the console's page): the cookie is the token.
            await page.goto(f"{stack.api}/console/sign-in")
            await page.fill("input[name=username]", OPERATOR)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(f"{stack.api}/console/my")
            # Temporal UI's codec settings: this endpoint, with cross-origin credentials.
            await page.goto(stack.ui)
            await page.evaluate(SETTINGS_JS, [f"{stack.api}/codec"])
            await page.goto(f"{stack.ui}/namespaces/default/workflows/{workflow_id}")
            await expect(page.get_by_text(CUSTOMER).first).to_be_visible()
            await shot(page, "temporal-ui-decoded")
            # Without the sign-in the codec server refuses (401), and the UI shows ciphertext.
            anonymous = await browser.new_page()
            anonymous.set_default_timeout(TIMEOUT_MS)
            await anonymous.goto(stack.ui)
            await anonymous.evaluate(SETTINGS_JS, [f"{stack.api}/codec"])
            await anonymous.goto(f"{stack.ui}/namespaces/default/workflows/{workflow_id}")
            refused = anonymous.locator("#content").get_by_text("Codec Server could not connect")
            await expect(refused).to_be_visible()
            await expect(anonymous.get_by_role("heading", name="Input")).to_be_visible()
            await shot(anonymous, "temporal-ui-without-sign-in")
            assert await anonymous.get_by_text(CUSTOMER).count() == 0
        finally:
            await browser.close()
    assert json.dumps(CUSTOMER) not in started.input.payloads[0].data.decode("latin-1")
