"""While the database is down, the workflow's writes are bounded: it says what it waits on (its
status, Temporal UI's details) and retries on a durable timer, then carries on."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.scenarios import FailingWrites, database_down
from tests.support import new_application_no
from workflows.writer import DATABASE, WRITE_LIMIT


async def test_a_write_that_fails_waits_on_a_timer_and_carries_on(
    ts_env: WorkflowEnvironment, ts_worker: Worker
) -> None:
    d = await database_down(ts_env, ts_worker.task_queue, new_application_no())
    waiting, recovered = d.seen["waiting"], d.seen["recovered"]
    assert waiting.waiting_on == DATABASE
    assert "waiting on the database" in d.seen["waiting_details"]
    assert recovered.waiting_on is None
    assert "waiting on the database" not in d.seen["recovered_details"]
    writes: FailingWrites = d.seen["writes"]
    # Two failed rounds, one a minute apart, then the one that got through; the close wrote too.
    assert writes.calls >= 3
    assert set(writes.limits) == {WRITE_LIMIT}
    # The joint survey notices issued at acceptance, withdrawn when the cancel closed it.
    assert [(w.tell, sorted({n.state for n in w.notices})) for w in writes.notices] == [
        ("issued", ["open"]),
        ("none", ["withdrawn"]),
    ]
    history = await d.handle.fetch_history()
    timers = [e for e in history.events if e.HasField("timer_started_event_attributes")]
    assert len([t for t in timers if t.user_metadata.summary.data]) == 2
    outcome = await d.handle.result()
    assert outcome.state == "cancelled"
    # Nothing of the application was lost while it waited: the cancel is its last entry.
    assert d.seen["closed"].timeline[-1].event == "cancelled"
