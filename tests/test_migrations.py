"""The read model's schema is Alembic's (readmodel/migrations): an empty database and a database
of the release before migrations both migrate to head, on SQLite and on PostgreSQL, and head is
exactly what the models say, so a table or column added to a model without a revision fails
here (docs/operations.md says how to add one)."""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import DateTime, Engine, MetaData, inspect, select, text
from sqlmodel import SQLModel

from core.db import make_engine
from readmodel import init_db, register_tables
from readmodel.migrate import UnknownRevision, current_revision, head_revision, upgrade_to_head
from tests.pg import PgServer, fresh_database

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "migrations"
#: The schema `create_all` made in the last release before migrations (scripts/snapshot_schema.py).
RELEASE0 = "release0"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on SQLite, or on the test PostgreSQL server (ids say `postgres`)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        engine = make_engine(fresh_database(server))
    yield engine
    engine.dispose()


def differences(engine: Engine) -> list[Any]:
    register_tables()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_an_empty_database_migrates_to_exactly_the_models(empty_engine: Engine) -> None:
    init_db(empty_engine)
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    # A model changed without a revision (`alembic revision --autogenerate`) shows up here.
    assert differences(empty_engine) == []


def test_a_model_change_without_a_revision_is_caught(empty_engine: Engine) -> None:
    init_db(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_application_stage"))
    assert [d[0] for d in differences(empty_engine)] == ["add_index"]


def load_release0(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """The previous release's tables, as its create_all made them, with its sample rows."""
    dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
    ddl = (SNAPSHOTS / f"{RELEASE0}_{dialect}.sql").read_text(encoding="utf-8")
    rows: dict[str, list[dict[str, Any]]] = json.loads(
        (SNAPSHOTS / f"{RELEASE0}_rows.json").read_text(encoding="utf-8")
    )
    with engine.begin() as conn:
        for statement in ddl.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)
    old = MetaData()
    old.reflect(engine)
    with engine.begin() as conn:
        for table in old.sorted_tables:
            if rows.get(table.name):
                conn.execute(table.insert(), [_typed(table, r) for r in rows[table.name]])
    return rows


def _typed(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Instants as the read model stores them: UTC, without an offset."""
    return {
        k: _naive(datetime.fromisoformat(v))
        if v is not None and isinstance(table.c[k].type, DateTime)
        else v
        for k, v in row.items()
    }


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _plain(value: Any) -> Any:
    return _naive(value).isoformat() if isinstance(value, datetime) else value


def test_the_previous_release_migrates_keeping_its_rows(empty_engine: Engine) -> None:
    rows = load_release0(empty_engine)
    assert sum(len(r) for r in rows.values()) >= 20
    init_db(empty_engine)
    assert differences(empty_engine) == []
    now = MetaData()
    now.reflect(empty_engine)
    with empty_engine.connect() as conn:
        for name, before in rows.items():
            table = now.tables[name]
            after = conn.execute(select(table)).mappings().all()
            assert len(after) == len(before), name
            for row in before:
                want = {k: _plain(v) for k, v in _typed(table, row).items()}
                kept = [a for a in after if all(_plain(a[k]) == v for k, v in want.items())]
                assert kept, f"{name}: {row} was not kept"


#: What `create_all` made, before migrations, of the tables and indexes revisions after 0001 add.
LATER_TABLES = ("calendar_publication", "report_application", "report_monitor")
LATER_INDEXES = {"timeline": "ix_timeline_event_at"}


def test_tables_create_all_made_before_their_revisions_are_kept(empty_engine: Engine) -> None:
    """A database of a release that had the publication or report tables, still without
    migrations: the revisions that add them keep them and their rows."""
    load_release0(empty_engine)
    register_tables()
    with empty_engine.begin() as conn:
        for name in LATER_TABLES:
            SQLModel.metadata.tables[name].create(conn)
        for table, index in LATER_INDEXES.items():
            next(i for i in SQLModel.metadata.tables[table].indexes if i.name == index).create(conn)
        conn.execute(
            text(
                "INSERT INTO calendar_publication (region, version, state, publication_id, pages, "
                "signalled, gone) VALUES ('CN', 'v1', 'published', 'p-1', 1, 3, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO report_application (application_no, unit, business_type, accepted_s) "
                "VALUES ('A1', 'henan', 'hv', 1790000000)"
            )
        )
    init_db(empty_engine)
    assert differences(empty_engine) == []
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert conn.execute(text("SELECT signalled FROM calendar_publication")).scalar_one() == 3
        assert conn.execute(text("SELECT unit FROM report_application")).scalar_one() == "henan"


def test_a_database_older_than_the_previous_release_gets_its_missing_columns(
    empty_engine: Engine,
) -> None:
    with empty_engine.begin() as conn:
        # The application table as the first version made it.
        conn.execute(
            text(
                "CREATE TABLE application (application_no VARCHAR(64) PRIMARY KEY, "
                "unit VARCHAR(128) NOT NULL, business_type VARCHAR(64) NOT NULL, "
                "voltage VARCHAR(16), capacity_kva FLOAT, state VARCHAR(16) NOT NULL, "
                "stage VARCHAR(64) NOT NULL, customer_manager VARCHAR(64), "
                "accepted_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, "
                "customer_name VARCHAR(200) NOT NULL, customer_phone VARCHAR(20))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO application VALUES ('A1', 'henan', 'hv', '10kV', 630, 'running', "
                "'accept', NULL, '2026-09-21 02:00:00', '2026-09-21 02:00:00', 'x', NULL)"
            )
        )
    init_db(empty_engine)
    columns = {c["name"] for c in inspect(empty_engine).get_columns("application")}
    assert {"warning_level", "next_due_at", "too_short", "final_status"} <= columns
    with empty_engine.connect() as conn:
        too_short = conn.execute(text("SELECT too_short FROM application")).scalar_one()
    assert too_short in (0, False)  # the old row got the column's default
    assert "ix_application_warning_level" in {
        i["name"] for i in inspect(empty_engine).get_indexes("application")
    }


def test_a_required_column_it_cannot_add_is_named_and_nothing_is_half_done(
    empty_engine: Engine,
) -> None:
    with empty_engine.begin() as conn:
        conn.execute(text("CREATE TABLE timeline (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError, match="timeline lacks the required column application_no"):
        init_db(empty_engine)
    # The migration ran in one transaction: the tables it had made before are gone again.
    assert set(inspect(empty_engine).get_table_names()) == {"timeline"}


def test_processes_starting_together_migrate_once(empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    migrated: list[bool] = []
    failures: list[BaseException] = []

    def start() -> None:
        engine = make_engine(url)
        try:
            migrated.append(upgrade_to_head(engine))
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(migrated) == [False, False, False, True]
    assert differences(empty_engine) == []


def test_a_database_migrated_by_a_newer_version_is_refused(empty_engine: Engine) -> None:
    init_db(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    with pytest.raises(UnknownRevision, match="schema revision from-the-future"):
        init_db(empty_engine)


def table_modules() -> set[str]:
    """The readmodel modules that define a table (a class with `table=True`)."""
    found = set()
    for path in (ROOT / "readmodel").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            ):
                found.add(f"readmodel.{path.stem}")
    return found


def registered_modules() -> set[str]:
    source = (ROOT / "readmodel" / "__init__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    register = next(
        n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "register_tables"
    )
    return {a.name for n in ast.walk(register) if isinstance(n, ast.Import) for a in n.names}


def test_every_module_with_a_table_is_registered() -> None:
    """A table the migrations never see would be missing from every database."""
    modules = table_modules()
    assert "readmodel.applications" in modules
    assert modules <= registered_modules()


def test_make_run_migrates_before_it_starts_the_processes(tmp_path: Path) -> None:
    from core.config import Settings
    from core.db import get_engine
    from launcher import migrate_database

    settings = Settings(data_dir=tmp_path)
    migrate_database(settings)
    with get_engine(settings).connect() as conn:
        assert current_revision(conn) == head_revision()
