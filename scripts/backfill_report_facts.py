"""Fill the report facts (readmodel.report_facts) for applications closed before those tables
existed: `python scripts/backfill_report_facts.py`, with the deployment's DATABASE_URL or
DATA_DIR. Running it again writes nothing new."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import get_engine
from readmodel import init_db
from readmodel.report_facts_writer import backfill


def main() -> None:
    engine = get_engine()
    init_db(engine)
    print(f"report facts written for {backfill(engine)} closed applications")


if __name__ == "__main__":
    main()
