"""Report benchmark: `python bench/report_bench.py [--quick] [--apps N] [--no-postgres]`.

With 100,000 closed applications (a year of them, mixed units and classes, plus 1% still in
flight for over a year) in the read model, on SQLite and on PostgreSQL (a throwaway server,
tests/pg.py, where Debian's is installed):
1. each report over the whole year and every unit, as the API builds it: the median of three
   runs, wall-clock and CPU time of this process (SQLite runs in it; PostgreSQL does not);
2. the naive computation of the same figures (bench/report_naive.py: one application at a
   time, its own queries, the scalar calendar) on a sample, its time per application scaled
   to all of them, and the ratio;
3. on a smaller database of the same kind, both computed in full: the figures must agree.
The data: bench/report_data.py (lifecycles lived by the real application book, copied).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, select, text

from api import report_builder as rb
from api.report_context import PackPolicies
from bench import report_naive as naive
from bench.report_data import TZ, copies, insert, templates
from core.db import make_engine
from domain.reports.lists import ListKind
from readmodel import init_db
from readmodel.applications import ApplicationRow

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
NOW = datetime(2026, 1, 15, tzinfo=TZ)
LISTS: list[ListKind] = ["too_short", "late_appointment", "overlong_pending"]
REPORTS = ["connection-time", "stage-times", "warnings", "lists", "penalties"]


def load(engine: Engine, apps: int, seed: int) -> int:
    """`apps` applications closed in 2025, and 1% more accepted in 2024 still in flight."""
    pool = templates(60, datetime(2025, 1, 6, tzinfo=TZ), seed=seed)
    stuck = templates(6, datetime(2024, 1, 8, tzinfo=TZ), seed=seed + 1, running=True)
    n = _insert(engine, copies(pool, apps, 48, "B", seed=seed))
    n += _insert(engine, copies(stuck, max(apps // 100, 1), 40, "R", seed=seed))
    with engine.begin() as conn:
        # What SQLite advises after a bulk load (and PostgreSQL's autovacuum would do): the
        # planners' statistics, so that they choose the covering indexes.
        conn.execute(text("ANALYZE"))
    return n


def _insert(engine: Engine, batches: Any) -> int:
    if engine.dialect.name == "postgresql":
        return _copy(engine, batches)
    return insert(engine, batches)


def _copy(engine: Engine, batches: Any) -> int:
    """PostgreSQL's COPY, the way bulk data goes in there."""
    from readmodel.projection import APPLICATION, TIMELINE, WARNING
    from readmodel.report_facts_writer import FACTS, MONITORS

    n = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for b in batches:
            tables = [
                (APPLICATION, b.applications),
                (TIMELINE, b.timeline),
                (WARNING, b.warnings),
                (FACTS, b.facts),
                (MONITORS, b.monitors),
            ]
            for table, rows in tables:
                if not rows:
                    continue
                columns = list(rows[0])
                with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([_pg(row[c]) for c in columns])
            n += len(b.applications)
        raw.commit()
    finally:
        raw.close()
    return n


def _pg(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # the read model's UTC columns
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def fast(engine: Engine, name: str, items: int = 100) -> Any:
    policies = PackPolicies()
    scope = rb.scope(policies, None, *YEAR)
    with engine.connect() as conn:
        if name == "connection-time":
            return rb.connection_time(conn, policies, scope, "month")
        if name == "stage-times":
            return rb.stage_times(conn, policies, scope, "month")
        if name == "warnings":
            return rb.warnings(conn, scope)
        if name == "lists":
            return rb.lists(conn, policies, scope, NOW, LISTS, 0, items)
        return rb.penalties(conn, policies, scope)


def slow(engine: Engine, name: str, numbers: list[str]) -> Any:
    policies = PackPolicies()
    scope = rb.scope(policies, None, *YEAR)
    if name == "connection-time":
        return naive.connection_time(engine, policies, scope, numbers)
    if name == "stage-times":
        return naive.stage_times(engine, policies, scope, numbers)
    if name == "warnings":
        return naive.warnings(engine, scope, numbers)
    if name == "lists":
        return naive.lists(engine, policies, scope, NOW, numbers)
    return naive.penalties(engine, policies, scope, numbers)


def timed(f: Callable[[], Any], runs: int = 3) -> tuple[float, float, Any]:
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = f()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def comparable(name: str, report: Any) -> Any:
    """The fast report in the naive baseline's shape."""
    if name == "connection-time":
        return {
            (r.period, r.business_type, r.voltage): (
                tuple(getattr(r.working_days, k) for k in ("n", "mean", "median", "p90")),
                tuple(getattr(r.calendar_days, k) for k in ("n", "mean", "median", "p90")),
                _share(r.within_provincial),
                _share(r.within_national),
            )
            for r in report.rows
        }
    if name == "stage-times":
        return {
            (r.period, r.monitor): (
                r.applications,
                r.counted.mean,
                r.working_days.mean,
                r.calendar_days.mean,
            )
            for r in report.rows
        }
    if name == "warnings":
        return {(w.level, w.unit, w.stage): (w.raised, w.open) for w in report.items}
    if name == "lists":
        out: dict[str, set[str]] = {k: set() for k in LISTS}
        for item in report.items:
            out[item.list].add(item.application_no)
        return out
    return {(x.unit, x.month, x.no): x.orders for t in report.tables for x in t.lines}


def _share(s: Any) -> tuple[int, int] | None:
    return (s.judged, s.within) if s is not None else None


def same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 2e-4 or (a != a and b != b)
    return bool(a == b)


def numbers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(ApplicationRow.application_no))]  # type: ignore[call-overload]


def check(engine: Engine) -> list[str]:
    """The reports that disagree with the naive computation over the whole database."""
    everyone = numbers(engine)
    bad = []
    for name in REPORTS:
        # Every list item, to compare them all.
        report = fast(engine, name, items=len(everyone))
        if not same(comparable(name, report), slow(engine, name, everyone)):
            bad.append(name)
    return bad


def bench(engine: Engine, label: str, apps: int, sample: int, seed: int) -> None:
    t0 = time.perf_counter()
    n = load(engine, apps, seed)
    print(f"\n== {label}: {n:,} applications loaded in {time.perf_counter() - t0:.0f} s")
    everyone = numbers(engine)
    picked = random.Random(seed).sample(everyone, min(sample, len(everyone)))
    heads = ("wall s", "cpu s", "naive s/app", "naive est. s", "ratio")
    print(f"{'report':<16}" + "".join(f"{h:>14}" for h in heads))
    for name in REPORTS:
        wall, cpu, _ = timed(lambda name=name: fast(engine, name))  # type: ignore[misc]
        w = time.perf_counter()
        slow(engine, name, picked)
        per_app = (time.perf_counter() - w) / len(picked)
        estimate = per_app * len(everyone)
        cells = (f"{wall:.3f}", f"{cpu:.3f}", f"{per_app * 1000:.3f}ms", f"{estimate:.1f}",
                 f"{estimate / wall:.0f}x")  # fmt: skip
        print(f"{name:<16}" + "".join(f"{c:>14}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100_000)
    parser.add_argument(
        "--sample", type=int, default=2_000, help="applications the naive way times"
    )
    parser.add_argument(
        "--check-apps", type=int, default=3_000, help="the database checked in full"
    )
    parser.add_argument("--quick", action="store_true", help="a few applications: the smoke test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.apps, args.sample, args.check_apps = 600, 100, 400
    root = Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        small = make_engine(f"sqlite:///{root / 'check.db'}")
        init_db(small)
        load(small, args.check_apps, args.seed + 100)
        bad = check(small)
        verdict = "the same in every report" if not bad else f"DIFFERENT in {', '.join(bad)}"
        print(f"figures checked against the naive computation, {args.check_apps:,} applications: "
              f"{verdict}")  # fmt: skip
        sqlite = make_engine(f"sqlite:///{root / 'bench.db'}")
        init_db(sqlite)
        bench(sqlite, "SQLite", args.apps, args.sample, args.seed)
        if not args.no_postgres:
            postgres(args)
        if bad:
            sys.exit(1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def postgres(args: argparse.Namespace) -> None:
    from tests import pg

    reason = pg.skip_reason()
    bin_dir = pg.pg_bin_dir()
    if reason is not None or bin_dir is None:
        print(f"\n== PostgreSQL: not measured ({reason})")
        return
    # A folder of its own: the server runs as `postgres` when this runs as root.
    home = Path(tempfile.mkdtemp(prefix="report-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, user=pg.SERVER_USER)
    try:
        server = pg.start_server(bin_dir, home)
        try:
            engine = make_engine(pg.fresh_database(server))
            init_db(engine)
            bench(engine, "PostgreSQL", args.apps, args.sample, args.seed)
            engine.dispose()
        finally:
            pg.stop_server(bin_dir, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
