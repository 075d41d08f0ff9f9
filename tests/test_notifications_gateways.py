"""The gateways against real endpoints: a JSON-lines file, and an HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.gateways import (
    HttpGateway,
    LogGateway,
    RateLimiter,
    SmsMessage,
    gateway_from_settings,
)
from activities.notifications import NotificationActivities
from calendars import get_calendar
from contracts.notifications import DispatchRequest
from core.config import Settings
from core.db import make_engine
from readmodel import init_db
from readmodel.demo_org import seed_demo_org
from readmodel.outbox import OutboxRow
from tests.notification_scenarios import TZ, sample_notice


class FakePlatform:
    """An SMS platform: answers from `script` (status codes, "slow" = sleep past the
    client's timeout) and then 200; delivers each Idempotency-Key once."""

    def __init__(self) -> None:
        self.script: list[int | str] = []
        self.requests: list[dict[str, object]] = []
        self.delivered: dict[str, dict[str, object]] = {}
        self.lock = threading.Lock()


def make_handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with platform.lock:
                platform.requests.append(
                    {"body": body, "auth": self.headers.get("Authorization"), "at": time.time()}
                )
                step = platform.script.pop(0) if platform.script else 200
            if step == "slow":
                time.sleep(0.5)
                step = 200
            if step == 200:
                key = self.headers["Idempotency-Key"]
                with platform.lock:
                    platform.delivered.setdefault(key, body)
            payload = json.dumps({"code": step}).encode()
            self.send_response(int(step))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep phones out of the test output

    return Handler


@pytest.fixture
def platform() -> Iterator[tuple[FakePlatform, str]]:
    p = FakePlatform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(p))
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield p, f"http://{host!s}:{port}/sms"
    server.shutdown()
    server.server_close()


def gateway(url: str, **kw: float) -> HttpGateway:
    opts: dict[str, float] = {"timeout_s": 0.2, "rate_per_second": 1000, "backoff_s": 0.01}
    opts.update(kw)
    return HttpGateway(url, token="t0ken", retries=3, **opts)  # type: ignore[arg-type]


MSG = SmsMessage("sms-1", "13800000001", "【业扩预警】测试")


def test_http_sends_with_token_and_idempotency_key(platform: tuple[FakePlatform, str]) -> None:
    p, url = platform
    result = gateway(url).send(MSG)
    assert result.outcome == "sent" and result.answer.startswith("200")
    assert p.requests[0]["auth"] == "Bearer t0ken"
    assert p.delivered["sms-1"] == {"message_id": "sms-1", "phone": MSG.phone, "text": MSG.text}


def test_http_retries_5xx_and_timeouts_with_backoff(platform: tuple[FakePlatform, str]) -> None:
    p, url = platform
    p.script = [503, "slow", 502]
    result = gateway(url).send(MSG)
    assert result.outcome == "sent"
    assert len(p.requests) == 4
    assert len(p.delivered) == 1


def test_http_gives_up_after_its_retries_with_retry_outcome(
    platform: tuple[FakePlatform, str],
) -> None:
    p, url = platform
    p.script = [500, 500, 500, 500, 500]
    result = gateway(url).send(MSG)
    assert result.outcome == "retry" and result.answer.startswith("500")
    assert len(p.requests) == 4  # the first try and three retries


@pytest.mark.parametrize("status", [400, 401, 422])
def test_http_never_retries_4xx(platform: tuple[FakePlatform, str], status: int) -> None:
    p, url = platform
    p.script = [status]
    result = gateway(url).send(MSG)
    assert result.outcome == "rejected" and result.answer.startswith(str(status))
    assert len(p.requests) == 1


def test_http_connection_refused_is_a_retry() -> None:
    result = gateway("http://127.0.0.1:9/sms", timeout_s=0.2).send(MSG)
    assert result.outcome == "retry" and "transport" in result.answer


def test_rate_limit_spaces_requests() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(50, clock=lambda: now[0], sleep=sleep)  # one every 20 ms
    for _ in range(4):
        limiter.wait()
    assert slept == [0.02, 0.02, 0.02]  # the first goes at once
    now[0] += 1.0  # idle for a second: no burst credit is saved up beyond the next slot
    limiter.wait()
    limiter.wait()
    assert slept == [0.02, 0.02, 0.02, 0.02]


def test_log_gateway_writes_json_lines_once_per_id(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    gw = LogGateway(path)
    assert gw.send(MSG).outcome == "sent"
    assert gw.send(MSG).outcome == "sent"
    # A restarted worker reads the file and still recognises the id.
    assert LogGateway(path).send(MSG).outcome == "sent"
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["text"] == MSG.text


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    init_db(eng)
    seed_demo_org(eng)
    yield eng
    eng.dispose()


def test_outbox_through_a_failing_then_recovering_platform(
    platform: tuple[FakePlatform, str], engine: Engine
) -> None:
    p, url = platform
    failures: list[int | str] = [503 for _ in range(4 * 3)]  # every try in round one fails
    p.script = failures
    settings = Settings(
        sms_gateway="http",
        sms_http_url=url,
        sms_http_timeout_s=0.5,
        sms_http_backoff_s=0.01,
        sms_rate_per_second=1000,
    )
    acts = NotificationActivities(engine, settings, calendar_for=lambda _r: get_calendar("CN"))
    at = datetime(2026, 9, 22, 11, 30, tzinfo=TZ)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1)))
    first = acts.dispatch_due(DispatchRequest(at=at))
    assert first.retrying == 3 and first.sent == 0
    second = acts.dispatch_due(DispatchRequest(at=at + timedelta(minutes=5)))
    assert second.sent == 3
    with Session(engine) as s:
        rows = s.exec(select(OutboxRow)).all()
    assert {r.state for r in rows} == {"sent"}
    assert all(r.attempts == 2 and (r.gateway_answer or "").startswith("200") for r in rows)
    assert len(p.delivered) == 3


def test_http_gateway_setting_needs_a_url() -> None:
    with pytest.raises(ValueError, match="SMS_HTTP_URL"):
        Settings(sms_gateway="http")
    gw = gateway_from_settings(Settings(sms_gateway="http", sms_http_url="http://127.0.0.1:9/"))
    assert isinstance(gw, HttpGateway)
    assert isinstance(gateway_from_settings(Settings()), LogGateway)
