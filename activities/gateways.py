"""SMS gateways: where the outbox's messages leave the system.

- `LogGateway` (default for `make run`): appends each message to a JSON-lines file.
- `HttpGateway`: POSTs each message to a configurable URL with a bearer token, a timeout and a
  rate limit; retries with backoff on 5xx, timeouts and connection errors, never on 4xx (the
  request itself is wrong and would be refused again).

Both receive a stable `message_id` per outbox row and treat a repeated id as already sent (the
HTTP gateway passes it as `Idempotency-Key`), so a resend after a crash between the gateway's
acceptance and the outbox's commit never reaches a phone twice. Phones never appear in logs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import httpx

from core.config import Settings

log = logging.getLogger(__name__)

Outcome = Literal["sent", "retry", "rejected"]


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    phone: str
    text: str


@dataclass(frozen=True)
class SendResult:
    #: sent: accepted; retry: a transient failure, try again later; rejected: never retry.
    outcome: Outcome
    answer: str


class Gateway(Protocol):
    def send(self, message: SmsMessage) -> SendResult: ...


class LogGateway:
    """Writes messages to a JSON-lines file: a stand-in for the real SMS platform that keeps
    every message inspectable. Ids already in the file are not written again."""

    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self._seen.add(json.loads(line)["message_id"])

    def send(self, message: SmsMessage) -> SendResult:
        with self._lock:
            if message.message_id in self._seen:
                return SendResult("sent", "duplicate message_id: already written")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            record = {
                "message_id": message.message_id,
                "phone": message.phone,
                "text": message.text,
                "written_at": self._clock().isoformat(),
            }
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                fh.flush()
            self._seen.add(message.message_id)
        return SendResult("sent", f"written to {self.path.name}")


class RateLimiter:
    """At most `per_second` calls per second, spread evenly (the platform's contract is a rate,
    and bursts are what it throttles)."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + self._interval
        if at > now:
            self._sleep(at - now)


class HttpGateway:
    def __init__(
        self,
        url: str,
        token: str | None = None,
        timeout_s: float = 5.0,
        rate_per_second: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self._retries = retries
        self._backoff = backoff_s
        self._limiter = RateLimiter(rate_per_second)
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def send(self, message: SmsMessage) -> SendResult:
        headers = {"Idempotency-Key": message.message_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"message_id": message.message_id, "phone": message.phone, "text": message.text}
        answer = ""
        for attempt in range(self._retries + 1):
            if attempt:
                # Exponential backoff: a platform that is failing needs room to recover.
                time.sleep(self._backoff * 2 ** (attempt - 1))
            self._limiter.wait()
            try:
                resp = self._client.post(self.url, json=body, headers=headers)
            except httpx.TimeoutException:
                answer = "timeout"
                continue
            except httpx.TransportError as exc:
                answer = f"transport error: {type(exc).__name__}"
                continue
            answer = f"{resp.status_code} {resp.text[:200]}".strip()
            if resp.is_success:
                return SendResult("sent", answer)
            if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
                return SendResult("rejected", answer)
            # 5xx, 408 and 429 are the platform's own trouble: worth another try.
        log.warning("SMS gateway failed for %s after %d tries", message.message_id, attempt + 1)
        return SendResult("retry", answer)


def gateway_from_settings(settings: Settings) -> Gateway:
    if settings.sms_gateway == "http":
        if not settings.sms_http_url:
            raise ValueError("SMS_GATEWAY=http needs SMS_HTTP_URL")
        token = settings.sms_http_token.get_secret_value() if settings.sms_http_token else None
        return HttpGateway(
            settings.sms_http_url,
            token=token,
            timeout_s=settings.sms_http_timeout_s,
            rate_per_second=settings.sms_rate_per_second,
            retries=settings.sms_http_retries,
            backoff_s=settings.sms_http_backoff_s,
        )
    return LogGateway(settings.sms_log_path)
