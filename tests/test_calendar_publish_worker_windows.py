"""A published calendar reaches the worker's send windows, in the worker's own process.

The worker is another process than the API that publishes: nothing the API does in its
memory reaches it. Here the worker side is a separate Python process that keeps its calendar
cache, as a worker does, and answers the SMS dispatcher's question (`dispatch_due`: when does
the next send window open?) whenever asked. A rest day is added to the data and published;
the same process, asked again, skips the new rest day.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from calendars import get_calendar
from calendars.cache import RECHECK_ENV
from tests.support import add_rest_day

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")

#: The worker side: the dispatcher's activity, asked once per line read.
WORKER_SIDE = """
import sys
from datetime import datetime
from activities.notifications import NotificationActivities
from contracts.notifications import DispatchRequest
from core.db import make_engine
from readmodel import init_db

engine = make_engine(f"sqlite:///{sys.argv[1]}")
init_db(engine)
activities = NotificationActivities(engine)
at = datetime.fromisoformat(sys.argv[2])
for _ in sys.stdin:
    wake = activities.dispatch_due(DispatchRequest(at=at)).next_wake
    print(wake.isoformat(), flush=True)
"""


class WorkerSide:
    def __init__(self, db: Path, at: datetime, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_SIDE, str(db), at.isoformat()],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def next_wake(self) -> datetime:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the worker side died"
        return datetime.fromisoformat(line.strip())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture
def worker_side_env(calendar_data: Path) -> Iterator[dict[str, str]]:
    # The default re-check interval is 5 s; 1 s keeps the test short.
    yield {**os.environ, "CALENDARS_DATA_DIR": str(calendar_data), RECHECK_ENV: "1"}


async def test_the_worker_sends_in_the_windows_of_the_published_calendar(
    api: httpx.AsyncClient, calendar_data: Path, worker_side_env: dict[str, str], tmp_path: Path
) -> None:
    cal = get_calendar("CN")
    day = cal.add_workdays(datetime.now(TZ).date(), 2)
    # Late on the evening before: the next window is `day`'s first (08:30, every pack).
    at = datetime.combine(day - timedelta(days=1), time(23, 59), tzinfo=TZ)
    worker = WorkerSide(tmp_path / "worker.db", at, worker_side_env)
    try:
        before = worker.next_wake()
        assert before.astimezone(TZ).date() == day

        add_rest_day(calendar_data, day)
        r = await api.post("/api/calendars/CN/publish")
        assert r.status_code == 202, r.text
        new = get_calendar("CN")
        assert new.version == r.json()["version"] and not new.is_workday(day)

        after = before
        for _ in range(100):  # the worker side looks at its files again within a second
            after = worker.next_wake()
            if after != before:
                break
            await asyncio.sleep(0.1)
        assert after.astimezone(TZ).date() == new.add_workdays(day, 1)
        assert after.astimezone(TZ).time() == before.astimezone(TZ).time()
    finally:
        worker.close()
