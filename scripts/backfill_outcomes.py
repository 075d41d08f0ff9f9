"""Fill the monitor_outcome table for applications closed before it existed (the reports read
it): `python scripts/backfill_outcomes.py`, with the deployment's DATABASE_URL / DATA_DIR."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activities.projection import backfill_outcomes  # noqa: E402
from core.db import get_engine  # noqa: E402
from readmodel import init_db  # noqa: E402


def main() -> None:
    engine = get_engine()
    init_db(engine)
    print(f"monitor outcomes written for {backfill_outcomes(engine)} closed applications")


if __name__ == "__main__":
    main()
