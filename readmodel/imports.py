"""Applications taken over from another system (docs/migration.md): what each import brought,
so that running it again is safe, and the digest that tells staff of the overdue ones.

- `application_import`: one row per imported application, with its record as imported (the
  application and its past) to compare a re-import with, and whether its workflow started.
- `import_digest`: which imported overdue application each recipient's digest names, per unit
  and send window; the digest itself is one SMS outbox row per (unit, phone, window), its text
  rebuilt from these rows whenever a batch adds to it.

A batch is written in one transaction: the read model of its applications (the projection's
own idempotent statements), their import rows and their digest entries and messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, UniqueConstraint, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col
from sqlmodel import select as sql_select

from contracts.application import ProjectionInput
from readmodel.outbox import OutboxRow
from readmodel.projection import ProjectionWriter
from readmodel.types import UTCDateTime

#: The digest rows' application number: not a valid application number (docs/migration.md).
DIGEST_PREFIX = "~digest:"
DIGEST_LEVEL = "digest"


class ImportedApplicationRow(SQLModel, table=True):
    __tablename__ = "application_import"

    application_no: str = Field(primary_key=True, max_length=64)
    unit: str = Field(index=True, max_length=128)
    #: The other system's order number.
    source_ref: str | None = Field(default=None, index=True, max_length=64)
    #: The record as imported and normalised (application, events, holds).
    record: dict[str, Any] = Field(sa_type=JSON)
    #: The instant its past was judged at (ImportedHistory.imported_at).
    imported_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    #: Its workflow has been started (a re-import starts the ones that were not).
    started: bool = False


class ImportDigestRow(SQLModel, table=True):
    __tablename__ = "import_digest"
    __table_args__ = (UniqueConstraint("unit", "phone", "send_after", "application_no"),)

    id: int | None = Field(default=None, primary_key=True)
    unit: str = Field(max_length=128)
    phone: str = Field(max_length=11)
    send_after: datetime = Field(sa_type=UTCDateTime)
    application_no: str = Field(max_length=64)
    #: The highest open level the application was imported with.
    level: str = Field(max_length=16)


@dataclass(frozen=True)
class DigestEntry:
    unit: str
    phone: str
    role: str
    staff_code: str | None
    send_after: datetime
    send_before: datetime
    application_no: str
    level: str


#: The digest's text from its unit and its (application number, level) pairs.
DigestText = Callable[[str, list[tuple[str, str]]], str]

IMPORTED: Table = ImportedApplicationRow.__table__  # type: ignore[attr-defined]
DIGEST: Table = ImportDigestRow.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]


class ImportWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._projection = ProjectionWriter(engine)
        insert = sqlite.insert if engine.dialect.name == "sqlite" else postgresql.insert
        upsert = insert(IMPORTED)
        self._imported = upsert.on_conflict_do_update(
            index_elements=[IMPORTED.c.application_no],
            set_={"record": upsert.excluded.record, "updated_at": upsert.excluded.updated_at},
        )
        self._digest = insert(DIGEST).on_conflict_do_nothing(
            index_elements=[
                DIGEST.c.unit,
                DIGEST.c.phone,
                DIGEST.c.send_after,
                DIGEST.c.application_no,
            ]
        )
        self._outbox = insert(OUTBOX).on_conflict_do_nothing(
            index_elements=[
                OUTBOX.c.application_no,
                OUTBOX.c.monitor,
                OUTBOX.c.level,
                OUTBOX.c.phone,
            ]
        )

    def existing(self, numbers: Sequence[str]) -> dict[str, ImportedApplicationRow]:
        found: dict[str, ImportedApplicationRow] = {}
        with Session(self._engine) as session:
            for i in range(0, len(numbers), 500):
                part = list(numbers[i : i + 500])
                query = sql_select(ImportedApplicationRow).where(
                    col(ImportedApplicationRow.application_no).in_(part)
                )
                for r in session.exec(query).all():
                    found[r.application_no] = r
        return found

    def write_batch(
        self,
        projections: Sequence[ProjectionInput],
        imported: Sequence[ImportedApplicationRow],
        digest: Sequence[DigestEntry],
        text: DigestText,
    ) -> None:
        """One batch in one transaction: nothing of it, or all of it."""
        with self._engine.begin() as conn:
            if projections:
                self._projection.write_in(conn, projections)
            if imported:
                conn.execute(self._imported, [r.model_dump() for r in imported])
            if digest:
                self._write_digest(conn, digest, text)

    def record_only(self, imported: Sequence[ImportedApplicationRow]) -> None:
        """A re-import's new record (its added events went to the workflow as updates)."""
        with self._engine.begin() as conn:
            conn.execute(self._imported, [r.model_dump() for r in imported])

    def mark_started(self, numbers: Sequence[str]) -> None:
        if not numbers:
            return
        with self._engine.begin() as conn:
            for i in range(0, len(numbers), 500):
                conn.execute(
                    update(IMPORTED)
                    .where(IMPORTED.c.application_no.in_(list(numbers[i : i + 500])))
                    .values(started=True)
                )

    def _write_digest(
        self, conn: Connection, digest: Sequence[DigestEntry], text: DigestText
    ) -> None:
        conn.execute(
            self._digest,
            [
                {
                    "unit": d.unit,
                    "phone": d.phone,
                    "send_after": d.send_after,
                    "application_no": d.application_no,
                    "level": d.level,
                }
                for d in digest
            ],
        )
        keys = {(d.unit, d.phone, d.send_after): d for d in digest}
        now = datetime.now(UTC)
        for (unit, phone, after), d in keys.items():
            named = conn.execute(
                select(DIGEST.c.application_no, DIGEST.c.level)
                .where(DIGEST.c.unit == unit, DIGEST.c.phone == phone, DIGEST.c.send_after == after)
                .order_by(DIGEST.c.application_no)
            ).all()
            message = text(unit, [(n, lvl) for n, lvl in named])
            key = {
                "application_no": f"{DIGEST_PREFIX}{unit}"[:64],
                "monitor": f"import.digest@{after.astimezone(UTC):%Y-%m-%dT%H:%MZ}",
                "level": DIGEST_LEVEL,
                "phone": phone,
            }
            conn.execute(
                self._outbox,
                {
                    **key,
                    "unit": unit,
                    "kind": "digest",
                    "code": "import",
                    "role": d.role,
                    "roles": [d.role],
                    "staff_code": d.staff_code,
                    "message": message,
                    "state": "pending",
                    "attempts": 0,
                    "send_after": d.send_after,
                    "send_before": d.send_before,
                    "window": "warning",
                    "created_at": now,
                },
            )
            # A digest not sent yet names every application added to it since.
            conn.execute(
                update(OUTBOX)
                .where(*(OUTBOX.c[k] == v for k, v in key.items()), OUTBOX.c.state == "pending")
                .values(message=message)
            )
