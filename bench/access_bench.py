"""What access control costs: `python bench/access_bench.py [--quick] [--payloads N]`.

Measures, on one core, each contender against a baseline run in the same run:
1. the payload codec: an application's start input converted to a Temporal payload and back,
   encrypted with AES-GCM (PAYLOAD_KEYS) against the same conversion without the codec;
2. the bearer token: `GET /api/applications` (a page of 50 of 500 applications) with the
   production guard (JWT checked, the member's row read, the password stamp compared) against
   the same request with the guard replaced by a fixed superuser;
3. signing in (`POST /api/auth/token`, an argon2 verification) against a guarded request.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session
from temporalio.contrib.pydantic import pydantic_data_converter

from api.app import attach, create_app
from api.auth import current_user
from contracts.application import ApplicationInput, Customer
from core.access import Principal
from core.codec import EncryptionCodec
from core.config import Settings
from core.db import make_engine
from policies.profile import ApplicationProfile
from readmodel import init_db
from readmodel.accounts import ensure_superuser
from readmodel.demo_org import seed_demo_org
from tests.support import application_row

UNIT = "henan/sanmenxia"


def application(i: int) -> ApplicationInput:
    return ApplicationInput(
        application_no=f"BENCH-{i:06d}",
        profile=ApplicationProfile(
            unit=UNIT,
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=datetime(2026, 11, 16, 1, 0, tzinfo=UTC),
        ),
        customer=Customer(name="三门峡测试制造有限公司", phone="13800000000"),
        customer_manager="cm-001",
    )


def _timed(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def paired(
    base: Callable[[], object], contender: Callable[[], object], n: int, rounds: int
) -> tuple[float, float, float]:
    """Microseconds per call of each (medians over `rounds`, after a warm-up), and the median
    of the rounds' ratios: the two run by turns in every round, so that the machine's drift
    falls on both."""
    for fn in (base, contender):
        for _ in range(min(n, 20)):
            fn()
    a, b = [], []
    for _ in range(rounds):
        a.append(_timed(base, n))
        b.append(_timed(contender, n))
    ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
    return statistics.median(a), statistics.median(b), ratio


def codec_figures(n: int, rounds: int) -> tuple[float, float, float]:
    plain = pydantic_data_converter
    key = base64.b64encode(bytes(range(32))).decode()
    codec = EncryptionCodec([("k1", base64.b64decode(key))])
    sealed = dataclasses.replace(plain, payload_codec=codec)
    inputs = [application(i) for i in range(n)]
    loop = asyncio.new_event_loop()

    def through(converter: Any) -> Callable[[], object]:
        it = iter(range(10**12))

        def one() -> object:
            value = inputs[next(it) % n]
            payloads = loop.run_until_complete(converter.encode([value]))
            return loop.run_until_complete(converter.decode(payloads, [ApplicationInput]))

        return one

    figures = paired(through(plain), through(sealed), n, rounds)
    loop.close()
    return figures


def api_figures(n: int, rounds: int) -> tuple[tuple[float, float, float], float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'app.db'}")
        init_db(engine)
        seed_demo_org(engine)
        with Session(engine) as s:
            s.add_all(application_row(f"BENCH-{i:06d}", UNIT) for i in range(500))
            s.commit()
        ensure_superuser(engine, "bench-admin", "bench-password-1")
        settings = Settings(
            data_dir=Path(tmp), jwt_secret=SecretStr("bench-signing-key-0123456789abcdef")
        )
        guarded = create_app()
        attach(guarded, settings, engine, None)  # type: ignore[arg-type]
        open_ = create_app()
        attach(open_, settings, engine, None)  # type: ignore[arg-type]
        fixed = Principal.of("bench-admin", "henan", ["admin"], superuser=True)
        open_.dependency_overrides[current_user] = lambda: fixed
        g, o = TestClient(guarded), TestClient(open_)
        form = {"username": "bench-admin", "password": "bench-password-1"}
        token = g.post("/api/auth/token", data=form).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        params = {"limit": 50}

        def guarded_call() -> object:
            r = g.get("/api/applications", params=params, headers=headers)
            assert r.status_code == 200, r.text
            return r

        def open_call() -> object:
            return o.get("/api/applications", params=params)

        def sign_in() -> object:
            r = g.post("/api/auth/token", data=form)
            assert r.status_code == 200, r.text
            return r

        guard = paired(open_call, guarded_call, n, rounds)
        _, signing, per_guarded = paired(guarded_call, sign_in, max(5, n // 20), rounds)
        engine.dispose()
        return guard, signing, per_guarded


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few calls, to check it runs")
    ap.add_argument("--payloads", type=int, default=5000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    n_payloads, n_requests, rounds = (
        (50, 10, 1) if args.quick else (args.payloads, args.requests, args.rounds)
    )
    base, enc, ratio = codec_figures(n_payloads, rounds)
    print(f"payload codec ({n_payloads} start inputs, median of {rounds} rounds):")
    print(f"  without codec {base:8.1f} us  with AES-GCM {enc:8.1f} us  ratio {ratio:.2f}x")
    (open_us, token_us, guard), sign_us, sign_ratio = api_figures(n_requests, rounds)
    print(f"GET /api/applications ({n_requests} requests, median of {rounds} rounds):")
    print(
        f"  fixed superuser {open_us / 1000:7.2f} ms  bearer token {token_us / 1000:7.2f} ms  "
        f"ratio {guard:.2f}x"
    )
    print(f"sign-in (argon2) {sign_us / 1000:7.2f} ms: {sign_ratio:.1f}x a guarded request")


if __name__ == "__main__":
    main()
