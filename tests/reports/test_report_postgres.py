"""The reports on PostgreSQL answer what they answer on SQLite (the grouped lists, the epoch
arithmetic and the joins compile differently on each)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from api import report_builder as rb
from api.report_context import PackPolicies
from tests.reports.scenario import t
from tests.reports.test_report_connection_time import connected_scenario
from tests.reports.test_report_lists_penalties import ALL_LISTS, pending_scenario


def every_report(engine: Engine) -> list[dict[str, object]]:
    policies = PackPolicies()
    year = rb.scope(policies, None, date(2026, 1, 1), date(2026, 12, 31))
    autumn = rb.scope(policies, None, date(2026, 10, 1), date(2026, 11, 30))
    with engine.connect() as conn:
        reports = [
            rb.connection_time(conn, policies, year, "month"),
            rb.stage_times(conn, policies, year, "quarter"),
            rb.warnings(conn, autumn),
            rb.lists(conn, policies, autumn, t("2026-12-15 00:00"), ALL_LISTS, 0, 100),
            rb.penalties(conn, policies, autumn),
        ]
    return [r.model_dump(mode="json") for r in reports]


def test_postgres_answers_as_sqlite(pg_engine: Engine, db_engine: Engine) -> None:
    for engine in (pg_engine, db_engine):
        connected_scenario(engine)
        pending_scenario(engine)
    on_postgres, on_sqlite = every_report(pg_engine), every_report(db_engine)
    assert on_postgres == on_sqlite
    connection, stages, warnings, lists, penalties = on_postgres
    assert len(connection["rows"]) == 5  # type: ignore[arg-type]
    assert lists["total"] == 5 and penalties["tables"] and warnings["items"]
    assert stages["rows"] == []  # no monitor outcomes in these scenarios
