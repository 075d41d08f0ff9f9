"""`python -m policies` and the import-purity promise of the engine modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from policies.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_check_lists_every_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "ok  henan/sanmenxia" in out
    assert "national → henan → henan/sanmenxia" in out


def test_show_prints_effective_rules_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "henan/sanmenxia", "hv", "--voltage", "10kV", "--dual-power"]) == 0
    out = capsys.readouterr().out
    assert "[hv.plan_reply] plan_reply" in out
    assert "provincial 10 workday, national 21 workday" in out
    assert "source: 000_1fb244cfb33f1f39.txt 附件4 附表 10/35/110千伏 供电方案编审及答复" in out
    assert "inconsistency: outage_plan_feedback" in out
    assert "excludes grid_works.started → grid_works.completed (不含配套电网施工时间)" in out
    assert "too-short (超短时限):" in out
    assert "[hv.plan_reply.10kv] plan_reply: ≤ 2 workday → onsite_check" in out


def test_show_refuses_a_naive_acceptance_time(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["show", "henan", "hv", "--accepted-at", "2026-09-21T10:00:00"])
    assert code == 2
    assert "time zone offset" in capsys.readouterr().err


def test_engine_modules_do_no_file_io_at_import() -> None:
    """Workflow code imports these inside the Temporal sandbox: no reads at import time."""
    script = textwrap.dedent(
        """
        import builtins, io, os, pathlib
        def refuse(*args, **kwargs):
            raise AssertionError(f"file I/O at import: {args!r}")
        builtins.open = refuse
        io.open = refuse
        pathlib.Path.read_text = refuse
        pathlib.Path.read_bytes = refuse
        os.listdir = refuse
        os.scandir = refuse
        import policies.codes, policies.schema, policies.rules, policies.engine, policies.params
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
