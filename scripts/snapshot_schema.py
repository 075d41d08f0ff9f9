"""Snapshot the read model's schema as `create_all` makes it today, with sample rows, for the
migration tests (tests/test_migrations.py): a database of that release must migrate to head
keeping its rows.

    .venv/bin/python scripts/snapshot_schema.py NAME

writes tests/migrations/NAME_sqlite.sql, NAME_postgresql.sql (the DDL each dialect gets) and
NAME_rows.json (rows of every table, parents before children).
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import MetaData, create_mock_engine, select
from sqlmodel import SQLModel

from core.db import make_engine

OUT = Path(__file__).resolve().parent.parent / "tests" / "migrations"
#: Rows kept per table: enough to see that they survive, few enough to read.
SAMPLE = 3


def ddl(metadata: MetaData, dialect: str) -> str:
    statements: list[str] = []

    def collect(sql: Any, *_: Any, **__: Any) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)).strip() + ";")

    engine = create_mock_engine(f"{dialect}://", collect)
    metadata.create_all(engine, checkfirst=False)
    return "\n\n".join(statements) + "\n"


def sample_rows(metadata: MetaData) -> dict[str, list[dict[str, Any]]]:
    from readmodel import demo_grid, demo_org

    engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/snapshot.db")
    metadata.create_all(engine)
    demo_org.seed_demo_org(engine)
    demo_grid.seed_demo_grid(engine)
    now = datetime(2026, 9, 21, 2, 0, tzinfo=UTC)
    extra = {
        "application": {
            "application_no": "R0-1", "unit": "henan/sanmenxia", "business_type": "hv",
            "voltage": "10kV", "capacity_kva": 630.0, "state": "running", "stage": "plan_reply",
            "customer_manager": "cm-001", "accepted_at": now, "updated_at": now,
            "warning_level": "blue", "next_due_at": now, "too_short": False,
            "provisional": False, "customer_name": "客户", "customer_phone": "13800000000",
            "final_status": None,
        },
        "timeline": {"application_no": "R0-1", "seq": 0, "event": "accept", "at": now},
        "warning": {
            "application_no": "R0-1", "monitor": "hv.plan_reply", "code": "plan_reply",
            "level": "blue", "due_at": now, "raised_at": now, "roles": ["customer_manager"],
            "open": True,
        },
        "sms_outbox": {
            "application_no": "R0-1", "unit": "henan/sanmenxia", "kind": "warning",
            "monitor": "hv.plan_reply", "level": "blue", "phone": "13800000000",
            "role": "customer_manager", "roles": [], "message": "…", "state": "pending",
            "attempts": 0, "send_after": now, "send_before": now, "window": "warning",
            "created_at": now,
        },
        "sms_undeliverable": {
            "application_no": "R0-1", "unit": "henan/sanmenxia", "monitor": "hv.plan_reply",
            "level": "blue", "role": "director", "department": "", "reason": "none",
            "created_at": now,
        },
        "capacity_reservation": {
            "application_no": "R0-1", "plan_version": 1, "resource_kind": "feeder",
            "resource_id": "demo", "kva": 630.0, "state": "held", "created_at": now,
        },
    }  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for name, row in extra.items():
            conn.execute(metadata.tables[name].insert(), [row])
        kept: dict[str, list[dict[str, Any]]] = {}
        for table in metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns).limit(SAMPLE)
            # Only children of the parents kept, so the sample keeps its foreign keys.
            for fk in table.foreign_keys:
                parents = kept.get(fk.column.table.name, [])
                values = [r[fk.column.name] for r in parents]
                query = query.where(fk.parent.in_(values) | fk.parent.is_(None))
            kept[table.name] = [dict(r) for r in conn.execute(query).mappings().all()]
            out[table.name] = [{k: _plain(v) for k, v in r.items()} for r in kept[table.name]]
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def main(name: str) -> None:
    import readmodel

    readmodel.register_tables()
    metadata = SQLModel.metadata
    OUT.mkdir(parents=True, exist_ok=True)
    for dialect in ("sqlite", "postgresql"):
        (OUT / f"{name}_{dialect}.sql").write_text(ddl(metadata, dialect), encoding="utf-8")
    rows = sample_rows(metadata)
    text = json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True)
    (OUT / f"{name}_rows.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
