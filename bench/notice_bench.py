"""What the notice inbox and summary cost: `python bench/notice_bench.py [--quick]`.

A read model holding N notices (default 20,000: four per 10 kV application, a third answered,
some overdue, across the demo units) answers, against a baseline run by turns in the same run:
1. the inbox, `GET /api/notices?department=dispatch` (open first, soonest due, their levels),
2. the summary, `GET /api/notices/summary` (per department: open, due soon, overdue, average
   answer time over the whole unit),
each against `GET /api/applications?limit=50` on the same database (the page staff already
wait for). Prints microseconds and the median of the rounds' ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session

from api.app import attach, create_app
from api.auth import current_user
from bench.access_bench import paired
from core.access import Principal
from core.config import Settings
from core.db import make_engine
from readmodel import init_db
from readmodel.coordination import NoticeRow
from readmodel.demo_org import seed_demo_org
from tests.support import application_row

UNITS = ("henan/sanmenxia", "henan/xinyang/huangchuan")
DEPARTMENTS = ("operations", "dispatch", "development", "construction")


def fill(engine: object, notices: int) -> None:
    now = datetime.now(UTC)
    apps = notices // len(DEPARTMENTS)
    with Session(engine) as s:  # type: ignore[arg-type]
        for i in range(apps):
            no = f"BENCH-{i:06d}"
            unit = UNITS[i % len(UNITS)]
            issued = now - timedelta(hours=i % 200)
            s.add(application_row(no, unit, at=issued))
            for d, dept in enumerate(DEPARTMENTS):
                answered = (i + d) % 3 == 0
                s.add(
                    NoticeRow(
                        id=f"{no}.joint_survey.{dept}.1", application_no=no,
                        kind="joint_survey", department=dept, unit=unit, round=1,
                        issued_at=issued, due_at=issued + timedelta(hours=30),
                        state="answered" if answered else "open",
                        answered_at=issued + timedelta(hours=5) if answered else None,
                        answered_by="co-1" if answered else None,
                        result="agreed" if answered else None, issued_by="workflow",
                    )
                )  # fmt: skip
            if i % 1000 == 999:
                s.commit()
        s.commit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a few calls, to check it runs")
    ap.add_argument("--notices", type=int, default=20_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    notices, n, rounds = (400, 3, 1) if args.quick else (args.notices, args.requests, args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'app.db'}")
        init_db(engine)
        seed_demo_org(engine)
        fill(engine, notices)
        settings = Settings(data_dir=Path(tmp), jwt_secret=SecretStr("bench-key-0123456789abcdef"))
        app = create_app()
        attach(app, settings, engine, None)  # type: ignore[arg-type]
        admin = Principal.of("bench-admin", "henan", ["admin"], superuser=True)
        app.dependency_overrides[current_user] = lambda: admin
        http = TestClient(app)

        def get(path: str, **params: object) -> object:
            r = http.get(path, params=params)
            assert r.status_code == 200, r.text
            return r

        def applications() -> object:
            return get("/api/applications", limit=50)

        def inbox() -> object:
            return get("/api/notices", department="dispatch")

        def summary() -> object:
            return get("/api/notices/summary")

        print(f"{notices} notices, {n} requests a round, median of {rounds} rounds")
        for name, fn in (("inbox (dispatch)", inbox), ("summary", summary)):
            base, cost, ratio = paired(applications, fn, n, rounds)
            print(
                f"  {name:18s} {cost / 1000:8.2f} ms   GET /api/applications {base / 1000:7.2f} ms"
                f"   ratio {ratio:.2f}x"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
