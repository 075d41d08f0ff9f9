"""The SMS texts, table by table: what a warning and a progress message say, in the policy's
zone, and that nothing personal gets into them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contracts.application import ProgressKind, ProgressNotice, WarningNotice
from domain.notifications.messages import render_progress, render_warning
from policies.loader import load_policy

SANMENXIA = load_policy("henan/sanmenxia")
DUE = datetime(2026, 9, 22, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


def warning(**changes: object) -> WarningNotice:
    base = WarningNotice(
        application_no="A20260922001",
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        customer_manager="cm-001",
        monitor="hv.plan_reply",
        code="plan_reply",
        level="yellow",
        due_at=DUE,
        raised_at=DUE,
        roles=["customer_manager"],
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {},
            "【业扩预警】黄色预警（已超省内时限）：工单A20260922001（高压新装/增容 10kV）"
            "「供电方案编审及答复」预警时点2026-09-22 09:30。请及时处理。",
        ),
        (
            {"level": "red", "result": "assess"},
            "【业扩预警】红色预警（已超国网时限）：工单A20260922001（高压新装/增容 10kV）"
            "「供电方案编审及答复」预警时点2026-09-22 09:30。结果：考核，请及时处理。",
        ),
        (
            {"level": "blue", "coordination": True, "result": "notify"},
            "【业扩预警】蓝色预警（即将超省内时限）：工单A20260922001（高压新装/增容 10kV）"
            "「供电方案编审及答复」预警时点2026-09-22 09:30。协同事项，结果：通报，请及时处理。",
        ),
        (
            # No voltage; a business type without a label is shown by its code.
            {"business_type": "future_type", "voltage": None, "level": "orange"},
            "【业扩预警】橙色预警（即将超国网时限）：工单A20260922001（future_type）"
            "「供电方案编审及答复」预警时点2026-09-22 09:30。请及时处理。",
        ),
        (
            # A monitor the policy does not know is named by its code; an unknown result
            # is left out.
            {"monitor": "hv.gone", "code": "gone", "result": "shrug"},
            "【业扩预警】黄色预警（已超省内时限）：工单A20260922001（高压新装/增容 10kV）"
            "「gone」预警时点2026-09-22 09:30。请及时处理。",
        ),
    ],
)
def test_warning_texts(changes: dict[str, object], text: str) -> None:
    assert render_warning(warning(**changes), SANMENXIA) == text


def test_a_warning_names_no_person() -> None:
    text = render_warning(warning(customer_manager="cm-secret-7"), SANMENXIA)
    assert "cm-secret-7" not in text


@pytest.mark.parametrize(
    ("kind", "at", "text"),
    [
        (
            "accepted",
            datetime(2026, 9, 22, 2, 0, tzinfo=UTC),
            "【国网供电】尊敬的客户，您的用电申请（工单A1）已于2026年9月22日受理，"
            "我们将按承诺时限为您办理，可通过“网上国网”APP查询进度。",
        ),
        (
            # 17:00 UTC is already the next day in Shanghai.
            "plan_replied",
            datetime(2026, 9, 30, 17, 0, tzinfo=UTC),
            "【国网供电】尊敬的客户，您的用电申请（工单A1）供电方案已于2026年10月1日答复，"
            "请通过“网上国网”APP查看并确认。",
        ),
        (
            "energized",
            datetime(2026, 12, 31, 15, 59, tzinfo=UTC),
            "【国网供电】尊敬的客户，您的用电申请（工单A1）已于2026年12月31日完成装表送电，"
            "感谢您的支持。",
        ),
    ],
)
def test_progress_texts(kind: ProgressKind, at: datetime, text: str) -> None:
    notice = ProgressNotice(
        application_no="A1", unit="henan/sanmenxia", kind=kind, at=at, phone="13912345678"
    )
    rendered = render_progress(notice, "Asia/Shanghai")
    assert rendered == text
    assert "13912345678" not in rendered
