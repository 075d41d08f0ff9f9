"""The benchmark script runs and checks its baselines' answers (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_benchmark_runs_on_a_few_inputs() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "calendar_bench.py"),
            "--inputs",
            "300",
            "--holidays-inputs",
            "30",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for name in (
        "add_workdays(d, 10)",
        "add_workdays(d, 1000)",
        "workdays_between",
        "add_work_time",
    ):
        assert name in proc.stdout
    assert "batch add_workdays" in proc.stdout
    assert "vs holidays" in proc.stdout
