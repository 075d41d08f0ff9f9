"""What was published of each region's calendar: one row per region.

Two writers, each idempotent and each unable to move the row backwards:
- the API records the newest version it asked the publisher for (`requested_version`), kept
  only if its files were read later than the stored request's;
- the publisher (through an activity) records its progress: the version it publishes or last
  published, the state and the counts, kept only if not older than the stored progress.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel

from contracts.calendar_publication import PublicationProgress
from readmodel.types import UTCDateTime


class CalendarPublicationBase(SQLModel):
    region: str = Field(primary_key=True, max_length=32)
    #: The version being published, or the one last published.
    version: str = Field(max_length=64)
    #: publishing | published
    state: str = Field(max_length=16)
    publication_id: str = Field(max_length=100)
    pages: int = 0
    signalled: int = 0
    gone: int = 0
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The newest version the API asked for, and when its files were read.
    requested_version: str | None = Field(default=None, max_length=64)
    requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The publisher's clock at its last record (orders its records).
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def is_published(self, version: str) -> bool:
        """`version` is published and nothing else is asked for: publishing it changes
        nothing."""
        return (
            self.state == "published"
            and self.version == version
            and self.requested_version in (None, version)
        )

    def is_requested(self, version: str) -> bool:
        """`version` is the newest asked for and not yet published everywhere."""
        return self.requested_version == version and not self.is_published(version)


class CalendarPublicationRow(CalendarPublicationBase, table=True):
    __tablename__ = "calendar_publication"


class CalendarPublicationPublic(CalendarPublicationBase):
    pass


TABLE: Table = CalendarPublicationRow.__table__  # type: ignore[attr-defined]


def _insert(engine: Engine) -> Any:
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(TABLE)


def record_request(engine: Engine, region: str, version: str, requested_at: datetime) -> bool:
    """The API asks the publisher for `version` (files read at `requested_at`). True if this
    call made it the newest request: of concurrent requests for one version exactly one
    claims it (the row's upsert is atomic), and a request read earlier than the stored one
    changes nothing."""
    stmt = _insert(engine)
    stmt = stmt.on_conflict_do_update(
        index_elements=[TABLE.c.region],
        set_={
            "requested_version": stmt.excluded.requested_version,
            "requested_at": stmt.excluded.requested_at,
        },
        where=TABLE.c.requested_version.is_distinct_from(stmt.excluded.requested_version)
        & (TABLE.c.requested_at.is_(None) | (TABLE.c.requested_at < stmt.excluded.requested_at)),
    )
    row = {
        "region": region,
        "version": version,
        "state": "publishing",
        "publication_id": "",
        "requested_version": version,
        "requested_at": requested_at,
    }
    return _execute(engine, stmt, row) == 1


def record_progress(engine: Engine, progress: PublicationProgress) -> None:
    """The publisher's progress on one publication (retried and replayed writes are no-ops)."""
    stmt = _insert(engine)
    columns = (
        "version",
        "state",
        "publication_id",
        "pages",
        "signalled",
        "gone",
        "started_at",
        "published_at",
        "recorded_at",
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[TABLE.c.region],
        set_={c: stmt.excluded[c] for c in columns},
        where=TABLE.c.recorded_at.is_(None) | (TABLE.c.recorded_at <= stmt.excluded.recorded_at),
    )
    row = {"region": progress.region, **progress.model_dump(include=set(columns))}
    _execute(engine, stmt, row)


def _execute(engine: Engine, stmt: Insert, row: dict[str, Any]) -> int:
    with engine.begin() as conn:
        return int(conn.execute(stmt, row).rowcount)


def get_publication(engine: Engine, region: str) -> CalendarPublicationRow | None:
    with Session(engine) as session:
        return session.get(CalendarPublicationRow, region.upper())
