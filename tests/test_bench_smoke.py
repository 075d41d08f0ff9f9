"""The engine and workflow benchmarks run end to end on a few inputs, so they cannot rot
between the runs whose figures go into the docs (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, cwd=ROOT, timeout=300
    )
    return proc.stdout


def test_engine_benchmark_runs() -> None:
    out = run("bench/engine_bench.py", "--quick")
    assert "evaluations/s" in out
    assert "with a memo" in out


def test_workflow_benchmark_runs_against_the_embedded_server() -> None:
    out = run("bench/workflow_bench.py", "--apps", "2", "--rounds", "1", "--concurrency", "2")
    for label in (
        "baseline, no-op activities",
        "baseline, DB-write activities",
        "baseline + required Temporal work",
    ):
        assert label in out
    line = next(x for x in out.splitlines() if x.startswith("ConnectionApplication"))
    history = int(line.split()[-1])
    assert 0 < history < 300, line
    assert "throughput vs baseline" in out
    assert "the required Temporal work alone" in out


def test_plan_benchmark_runs() -> None:
    out = run("bench/plan_bench.py", "--quick")
    assert "plans/s" in out
    assert "same points chosen in 100/100" in out
    assert "faster (target >= 20x)" in out


def test_report_benchmark_runs() -> None:
    out = run("bench/report_bench.py", "--quick")
    assert "the same in every report" in out
    assert "== SQLite" in out
    for report in ("connection-time", "stage-times", "warnings", "lists", "penalties"):
        assert report in out
    assert "naive est." in out


def test_scale_benchmark_runs() -> None:
    out = run(
        "bench/scale_bench.py",
        *("--n", "20", "--due", "0", "--rows", "300", "--repeat", "2", "--no-postgres"),
    )
    assert "20 open applications" in out
    assert "KiB per application" in out
    assert "calendar published to" in out
    assert "300 rows against 1,000" in out and "board (red, open)" in out


def test_plan_workflow_benchmark_runs_against_the_embedded_server() -> None:
    out = run("bench/plan_workflow_bench.py", "--apps", "2")
    assert "site_survey.completed -> plan in the status: p50" in out
    assert "ratio of the medians" in out


def test_access_benchmark_runs() -> None:
    out = run("bench/access_bench.py", "--quick")
    assert "with AES-GCM" in out and "bearer token" in out and "sign-in (argon2)" in out


def test_notice_benchmark_runs() -> None:
    out = run("bench/notice_bench.py", "--quick")
    assert "inbox (dispatch)" in out and "summary" in out and "ratio" in out
