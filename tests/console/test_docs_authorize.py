"""The Authorize button of /docs in a real browser: Swagger UI's OAuth2 password flow signs in
at POST /api/auth/token, and "Try it out" then calls a protected route with the token.
Skipped, with the reason printed, where chromium is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect
from pydantic import SecretStr

from core.config import Settings
from tests.console.test_console_browser import ARGS, CHROMIUM, shot
from tests.support import free_port
from tests.test_api_schemathesis import Server

ADMIN, PASSWORD = "docs-admin", "docs-admin-password"


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    if CHROMIUM is None:
        reason = "chromium is not installed (apt-get install -y chromium): /docs test skipped"
        print(reason)
        pytest.skip(reason)
    settings = Settings(
        data_dir=tmp_path,
        log_level="WARNING",
        # Unreachable on purpose: /api/auth/me needs only the database.
        temporal_address=f"127.0.0.1:{free_port()}",
        bootstrap_admin_username=ADMIN,
        bootstrap_admin_password=SecretStr(PASSWORD),
        jwt_secret=SecretStr("docs-test-signing-key-0123456789abcdef"),
    )
    port = free_port()
    with Server(settings, port, secure=True):
        yield f"http://127.0.0.1:{port}"


async def test_the_authorize_button_signs_in_and_try_it_out_uses_the_token(api_url: str) -> None:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(20_000)
            await page.goto(f"{api_url}/docs")
            operation = page.locator("#operations-sign-in-me_api_auth_me_get")
            await operation.locator(".opblock-summary").click()
            await operation.get_by_role("button", name="Try it out").click()
            await operation.get_by_role("button", name="Execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status")
            await expect(status.first).to_have_text("401")

            await page.locator("button.authorize").first.click()
            await page.fill("#oauth_username", ADMIN)
            await page.fill("#oauth_password", PASSWORD)
            await page.locator(".modal-ux .auth-btn-wrapper button.authorize").click()
            await expect(page.locator(".modal-ux").get_by_text("Logout")).to_be_visible()
            await page.locator(".modal-ux button.btn-done").click()
            await shot(page, "docs-authorized")

            await operation.get_by_role("button", name="Execute").click()
            await expect(status.first).to_have_text("200")
            await expect(operation.locator(".live-responses-table")).to_contain_text(ADMIN)
        finally:
            await browser.close()
