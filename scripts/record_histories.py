"""Record the workflow histories that the replay tests replay.

`.venv/bin/python scripts/record_histories.py [name ...]` records the scenarios (all, or the
named ones) that have no history yet; `--all` re-records them. Re-record only when no running
workflow can have the old shape: an old history that no longer replays is a running
application that would break.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contracts import search_attributes  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.process import exit_now  # noqa: E402
from core.temporal import register_search_attributes  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.demo_grid import seed_demo_grid  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402
from tests.integration_scenarios import SCENARIOS as INTEGRATION_SCENARIOS  # noqa: E402
from tests.notice_scenarios import SCENARIOS as NOTICE_SCENARIOS  # noqa: E402
from tests.notification_scenarios import SCENARIOS as NOTIFICATION_SCENARIOS  # noqa: E402
from tests.permit_scenarios import SCENARIOS as PERMIT_SCENARIOS  # noqa: E402
from tests.publisher_scenarios import SCENARIOS as PUBLISHER_SCENARIOS  # noqa: E402
from tests.scenarios import SCENARIOS  # noqa: E402
from worker import build_worker  # noqa: E402

OUT = ROOT / "tests" / "histories"


def wanted(name: str) -> bool:
    """Scenario names on the command line limit the run to them."""
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    if only and name not in only:
        return False
    return not (OUT / f"{name}.json").exists() or "--all" in sys.argv


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        # The plan scenarios plan on the demo grid (its rows name the demo units).
        seed_demo_org(engine)
        seed_demo_grid(engine)
        async with env:
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                # One worker for every scenario: a workflow left running must keep a poller,
                # or the test server cannot skip time past its next timer. The SMS log
                # gateway writes under the temporary folder.
                settings = Settings(data_dir=Path(tmp))
                async with build_worker(env.client, engine, "record", pool, settings):
                    drivers = {**SCENARIOS, **PERMIT_SCENARIOS, **NOTICE_SCENARIOS}
                    for i, (name, scenario) in enumerate(drivers.items()):
                        if not wanted(name):
                            continue
                        driver = await scenario(env, "record", f"REC{i:05d}")
                        history = await driver.handle.fetch_history()
                        (OUT / f"{name}.json").write_text(history.to_json())
                        print(f"recorded {name}: {len(history.events)} events")
                    for i, (name, flow) in enumerate(INTEGRATION_SCENARIOS.items()):
                        if not wanted(name):
                            continue
                        handle = await flow(env, "record", f"RECI{i:04d}")
                        history = await handle.fetch_history()
                        (OUT / f"{name}.json").write_text(history.to_json())
                        print(f"recorded {name}: {len(history.events)} events")
                    for name, sms_scenario in NOTIFICATION_SCENARIOS.items():
                        if not wanted(name):
                            continue
                        handle = await sms_scenario(env, "record", engine, settings)
                        history = await handle.fetch_history()
                        (OUT / f"{name}.json").write_text(history.to_json())
                        print(f"recorded {name}: {len(history.events)} events")


async def record_on_dev_server() -> None:
    """The publisher pages through visibility queries, which only the real server answers."""
    names = [n for n in PUBLISHER_SCENARIOS if wanted(n)]
    if not names:
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            data_converter=pydantic_data_converter,
            search_attributes=search_attributes.ALL,
            dev_server_database_filename=f"{tmp}/temporal.db",
        )
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        async with env:
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                settings = Settings(data_dir=Path(tmp))
                async with build_worker(env.client, engine, "record", pool, settings):
                    for i, name in enumerate(names):
                        published = await PUBLISHER_SCENARIOS[name](env.client, "record", f"RP{i}")
                        history = published.histories[name]
                        (OUT / f"{name}.json").write_text(history.to_json())
                        print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(main())
    asyncio.run(record_on_dev_server())
    exit_now(0)
