"""The scale bench's API part (bench/scale_bench.py): `--rows` applications written to SQLite
and PostgreSQL, then the filtered list, a closed application's detail and the warning board
timed in process (ASGI) against the same requests over 1,000 rows in the same run."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text

from core.db import make_engine
from policies.loader import list_units
from readmodel import init_db
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow

#: The packs' new-service types the bench uses, with a voltage and capacity each.
TYPES = {
    "hv": ("10kV", 630.0),
    "lv_residential": ("220V", 8.0),
    "lv_non_residential": ("380V", 100.0),
    "lv_small_micro": ("380V", 80.0),
    "charging_residential": ("220V", 7.0),
    "dg_lv": ("380V", 50.0),
}
UNITS = [u for u in list_units() if u != "national"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fill(engine: Engine, rows: int) -> None:
    app = ApplicationRow.__table__  # type: ignore[attr-defined]
    tl = TimelineRow.__table__  # type: ignore[attr-defined]
    w = WarningRow.__table__  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    batch = 5000
    for start in range(0, rows, batch):
        apps, tls, ws = [], [], []
        for i in range(start, min(rows, start + batch)):
            bt = list(TYPES)[i % len(TYPES)]
            no = f"R{i:09d}"
            closed = i % 4 == 0
            at = now - timedelta(seconds=i * 30)
            level = ("blue", "yellow", "orange", "red", None)[i % 5]
            apps.append({
                "application_no": no, "unit": UNITS[i % len(UNITS)], "business_type": bt,
                "voltage": TYPES[bt][0], "capacity_kva": TYPES[bt][1],
                "state": "completed" if closed else "running",
                "stage": "archive" if closed else "site_survey",
                "customer_manager": f"cm-{i % 300:03d}", "accepted_at": at, "updated_at": at,
                "warning_level": None if closed else level, "next_due_at": None,
                "too_short": False, "provisional": False, "customer_name": "测试客户",
                "customer_phone": None,
                "final_status": {
                    "application_no": no, "state": "completed", "stage": "archive",
                    "profile": {"unit": UNITS[i % len(UNITS)], "business_type": bt,
                                "voltage": TYPES[bt][0], "capacity_kva": TYPES[bt][1],
                                "accepted_at": at.isoformat()},
                } if closed else None,
            })  # fmt: skip
            tls.append({"application_no": no, "seq": 0, "event": "accept", "at": at})
            if level and not closed:
                ws.append({
                    "application_no": no, "monitor": f"{bt}.site_survey", "code": "site_survey",
                    "level": level, "due_at": at, "raised_at": at, "roles": [], "open": True,
                })  # fmt: skip
        with engine.begin() as conn:
            conn.execute(app.insert(), apps)
            conn.execute(tl.insert(), tls)
            if ws:
                conn.execute(w.insert(), ws)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


async def timed(call: Callable[[], Awaitable[httpx.Response]], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = await call()
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text[:300]
    return out


async def api_latency(engine: Engine, repeat: int, rows: int) -> dict[str, tuple[float, float]]:
    import secrets

    from pydantic import SecretStr

    from api.app import attach, create_app
    from core.config import Settings
    from core.security import create_token
    from readmodel.accounts import ensure_superuser

    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()), jwt_secret=SecretStr(secrets.token_urlsafe(32))
    )
    app = create_app()
    attach(app, settings, engine, temporal=None)  # type: ignore[arg-type]
    # Signed in as a deployment is: every request's token is checked (an administrator's).
    ensure_superuser(engine, "bench-admin", secrets.token_urlsafe(16))
    token = create_token(settings, "bench-admin").access_token
    transport = httpx.ASGITransport(app=app)
    out = {}
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://bench",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        cases = {
            "list (unit, state, overdue)": lambda: http.get(
                "/api/applications",
                params={"unit": UNITS[1], "state": "running", "overdue": "true", "limit": 50},
            ),
            # Every fourth row is closed: its detail is read from the row, not the workflow.
            "detail (closed, from the row)": lambda: http.get(
                f"/api/applications/R{rows // 2 // 4 * 4:09d}"
            ),
            "board (red, open)": lambda: http.get(
                "/api/warnings", params={"level": "red", "limit": 100}
            ),
        }
        for name, call in cases.items():
            await timed(call, 5)  # warm
            ms = await timed(call, repeat)
            out[name] = (pct(ms, 0.5), pct(ms, 0.99))
    return out


@contextmanager
def postgres() -> Iterator[Callable[[], str] | None]:
    from tests import pg

    reason = pg.skip_reason()
    if reason is not None:
        print(f"PostgreSQL skipped: {reason}")
        yield None
        return
    bin_dir = pg.pg_bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="pg-bench-"))
    if os.geteuid() == 0:
        shutil.chown(root, user=pg.SERVER_USER)
    server = pg.start_server(bin_dir, root)
    try:
        yield lambda: pg.fresh_database(server)
    finally:
        pg.stop_server(bin_dir, root)
        shutil.rmtree(root, ignore_errors=True)


async def api_part(rows: int, repeat: int, with_pg: bool) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with postgres() if with_pg else _none() as new_pg:
        urls: dict[str, Callable[[], str]] = {
            "sqlite": lambda: f"sqlite:///{tempfile.mkdtemp()}/api.db",
        }
        if new_pg is not None:
            urls["postgresql"] = new_pg
        for db, make_url in urls.items():
            for size in (1000, rows):
                engine = make_engine(make_url())
                init_db(engine)
                t0 = time.perf_counter()
                fill(engine, size)
                fill_s = time.perf_counter() - t0
                results[f"{db} {size}"] = {
                    "fill_s": fill_s,
                    **await api_latency(engine, repeat, size),
                }
                engine.dispose()
    return results


@contextmanager
def _none() -> Iterator[None]:
    yield None


def report_api(results: dict[str, dict[str, Any]], rows: int) -> None:
    print(f"\n== API latency, in process (ms p50 / p99), {rows} rows against 1,000")
    for key, r in results.items():
        print(f"{key:>18}: filled in {r['fill_s']:.1f} s")
        base = results.get(f"{key.split()[0]} 1000", r)
        for name, value in r.items():
            if name == "fill_s":
                continue
            p50, p99 = value
            ratio = p50 / base[name][0]
            print(f"{'':>20}{name:<32} {p50:7.1f} / {p99:7.1f}   ({ratio:.2f}x the 1,000-row p50)")
