"""The plan document (供电方案答复单): rendered, opened, and read back."""

from __future__ import annotations

import io
import re
from datetime import date

import pypdf
import pytest

from api.plan_document import PlanHeader, add_months, find_cjk_font, render_plan_pdf
from tests.plans.support import Grid, plan_for

FONT = find_cjk_font()


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    # Extracted CJK text comes with spaces or NULs between glyphs: compare without them.
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def test_add_months_keeps_the_day_or_the_months_last() -> None:
    assert add_months(date(2026, 11, 16), 3) == date(2027, 2, 16)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 31), 12) == date(2027, 1, 31)


def test_rendered_plan_shows_voltage_point_and_clauses() -> None:
    if FONT is None:
        print("skipped: no CJK font installed (apt-get install fonts-noto-cjk)")
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    g = Grid()
    g.point("CP-TEST-0042", 300, feeder="F1")
    plan = plan_for(g)
    header = PlanHeader(
        application_no="SMX-2026-000123",
        customer_name="三门峡某某制造有限公司",
        unit_label="国网三门峡供电公司",
        issued_on=date(2026, 11, 16),
    )
    pdf = render_plan_pdf(plan, header, FONT)
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    for expected in (
        "供电方案答复单",
        "接入电压10kV",
        "CP-TEST-0042",
        "线路T接",
        "建设时限7个工作日",
        "需办理行政审批",
        "至2027-11-16",
        "三(三)1",
    ):
        assert expected in text, expected


def test_no_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import api.plan_document as doc

    monkeypatch.setattr(doc, "FONT_CANDIDATES", ())
    monkeypatch.delenv("PLAN_PDF_FONT", raising=False)
    assert doc.find_cjk_font() is None
    g = Grid()
    g.point("A", 100, feeder="F1")
    header = PlanHeader(
        application_no="X", customer_name="Y", unit_label="Z", issued_on=date(2026, 11, 16)
    )
    with pytest.raises(doc.FontMissing, match="fonts-noto-cjk"):
        render_plan_pdf(plan_for(g), header)
