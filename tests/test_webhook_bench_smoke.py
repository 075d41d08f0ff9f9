"""The webhook benchmark runs end to end on a few deliveries, so it cannot rot between the
runs whose figures go into the docs (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_webhook_benchmark_checks_exactly_once() -> None:
    proc = subprocess.run(
        [sys.executable, "bench/webhook_bench.py", "--deliveries", "40", "--concurrency", "4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "throughput vs baseline" in proc.stdout
    assert "exactly once" in proc.stdout and "NOT exactly once" not in proc.stdout
