"""A sample sender of the three webhooks, signed as Standard Webhooks asks (the
`standardwebhooks` package signs: `v1,<base64 HMAC-SHA256 over id.timestamp.body>`).

    python scripts/approval_client.py project   [--url http://127.0.0.1:8000] [--id P-1]
    python scripts/approval_client.py permit    --application-no rsv-P-1 --kind road_excavation
    python scripts/approval_client.py registration [--registration-no 91410000MA0000001X]

The secrets come from APPROVAL_WEBHOOK_SECRET and REGISTRATION_WEBHOOK_SECRET (`make run`
prints them, and keeps them in data/webhook-secrets.env). `--redeliver N` sends the same
delivery (same webhook-id) N more times; the server answers each with its first answer.
The tests and the bench use `signed_headers`, `*_body` and `send`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

PATHS = {
    "project": "/webhooks/approval/projects",
    "permit": "/webhooks/approval/permits",
    "registration": "/webhooks/registrations",
}
SECRETS = {
    "project": "APPROVAL_WEBHOOK_SECRET",
    "permit": "APPROVAL_WEBHOOK_SECRET",
    "registration": "REGISTRATION_WEBHOOK_SECRET",
}


def signed_headers(
    secret: str, body: bytes, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def project_body(project_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": project_id or f"P-{uuid.uuid4().hex[:12]}",
        "name": "示例产业园一期",
        "unit": "henan/sanmenxia",
        "location": {"lon": 111.2, "lat": 34.77},
        "expected_load_kva": 800,
        "voltage": "10kV",
        "expected_date": "2027-06-30",
    }
    body.update(overrides)
    return body


def permit_body(application_no: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "application_no": application_no,
        "kind": "road_excavation",
        "result": "approved",
        "decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    body.update(overrides)
    return body


def registration_body(registration_no: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "registration_no": registration_no or f"R{uuid.uuid4().hex[:17].upper()}",
        "name": "某某小吃店",
        "unit": "henan/sanmenxia",
        "address": "湖滨区示例路1号",
        "contact": "13800000009",
    }
    body.update(overrides)
    return body


def prepared(
    kind: str,
    body: dict[str, Any],
    secret: str,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> tuple[str, bytes, dict[str, str]]:
    """(path, content, headers) of a signed delivery, for any HTTP client."""
    raw = encode(body)
    return PATHS[kind], raw, signed_headers(secret, raw, msg_id, at)


def send(
    client: httpx.Client,
    kind: str,
    body: dict[str, Any],
    secret: str,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> httpx.Response:
    path, raw, headers = prepared(kind, body, secret, msg_id, at)
    return client.post(path, content=raw, headers=headers)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("kind", choices=sorted(PATHS))
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--id", help="project id")
    ap.add_argument("--registration-no")
    ap.add_argument("--application-no")
    ap.add_argument("--kind", dest="permit_kind", default="road_excavation")
    ap.add_argument("--result", choices=["approved", "rejected"], default="approved")
    ap.add_argument("--redeliver", type=int, default=0)
    args = ap.parse_args(argv)
    secret = os.environ.get(SECRETS[args.kind])
    if not secret:
        print(f"{SECRETS[args.kind]} is not set (make run prints it)", file=sys.stderr)
        return 2
    if args.kind == "project":
        body = project_body(args.id)
    elif args.kind == "registration":
        body = registration_body(args.registration_no)
    else:
        if not args.application_no:
            print("--application-no is needed for a permit", file=sys.stderr)
            return 2
        body = permit_body(args.application_no, kind=args.permit_kind, result=args.result)
    msg_id = f"msg_{uuid.uuid4().hex}"
    with httpx.Client(base_url=args.url, timeout=10) as client:
        for _ in range(1 + args.redeliver):
            r = send(client, args.kind, body, secret, msg_id)
            print(r.status_code, r.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
