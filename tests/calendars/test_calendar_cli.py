"""The operator CLI: python -m calendars show|add|between|check|snapshot."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from calendars.cli import main
from calendars.loader import DATA_DIR

ROOT = Path(__file__).parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_published_year(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "2026")
    assert code == 0
    assert "国办发明电〔2025〕7号, 2025-11-04" in out
    assert "春节: 2026-02-15 (周日) - 2026-02-23 (周一), 9 days" in out
    assert "2026-09-20 (周日)  (国庆节)" in out
    assert "Working days: 248" in out


def test_show_amended_and_provisional_years(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "show", "2020")
    assert "amended by 国务院办公厅关于延长2020年春节假期的通知 国办发明电〔2020〕1号" in out
    assert "2020-02-01" not in out.split("Make-up")[1]
    _, out, _ = run(capsys, "show", "2027")
    assert "PROVISIONAL" in out


def test_add_and_between(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "add", "2026-09-30", "3")[1].strip() == "2026-10-10 (周六)"
    assert run(capsys, "between", "2026-09-30", "2026-10-12")[1].strip() == "4"
    assert run(capsys, "add", "2026-12-30", "5")[1].strip().endswith("PROVISIONAL")
    code, _, err = run(capsys, "add", "2026-12-30", "5", "--strict")
    assert code == 2
    assert "no published data for 2027" in err


def test_check_ok_and_failing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.startswith("ok   CN: 7 files, 2020-2026")
    shutil.copytree(DATA_DIR / "CN", tmp_path / "CN")
    bad = tmp_path / "CN" / "2026.toml"
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("2026-10-10", "2026-10-09"), encoding="utf-8"
    )
    code, _, err = run(capsys, "check", "--data-dir", str(tmp_path))
    assert code == 1
    assert f"{bad}:" in err
    assert "2026-10-09" in err and "not a weekend day" in err


def test_snapshot_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "snapshot", "--clock", "office_hours")
    assert code == 0
    assert json.loads(out)["clock"]["kind"] == "office_hours"


def test_module_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "calendars", "between", "2026-09-30", "2026-10-12"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert proc.stdout.strip() == "4"
