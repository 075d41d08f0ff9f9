"""Connection time and stage times against figures worked out by hand (tests/reports/scenario.py
says which calendar days are rest days)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from api import report_builder as rb
from api.report_context import PackPolicies
from domain.reports.common import Share, Stats
from domain.reports.models import ConnectionTimeReport
from tests.reports.scenario import Scenario

SH, YT = "shanghai", "shandong/yantai"


@pytest.fixture
def data(db_engine: Engine) -> Engine:
    connected_scenario(db_engine)
    return db_engine


def connected_scenario(engine: Engine) -> None:
    sc = Scenario(engine)
    # Shanghai, 10 kV. S1: Mon 09-21 10:00 → Mon 09-28 10:00: 7 days; working days Mon 14 h,
    # Tue-Thu 72 h (Fri 09-25 is Mid-Autumn), Mon 10 h = 96 h = 4.0. Energised after its
    # meter was installed: the energisation is the connection.
    sc.connected("S1", SH, "hv", "10kV", "2026-09-21 10:00", energized="2026-09-28 10:00",
                 kept=(1, 1))  # fmt: skip
    # S2: Tue 09-29 09:00 → Tue 10-13 21:00: 14.5 days; working 15 + 24, National Day off,
    # Thu-Sat (the make-up Saturday) 72, Mon 24, Tue 21 = 156 h = 6.5. Passed the provincial.
    sc.connected("S2", SH, "hv", "10kV", "2026-09-29 09:00", energized="2026-10-13 21:00",
                 kept=(0, 1))  # fmt: skip
    # S3: Thu 08:00 → Fri 20:00: 1.5 and 1.5; not closed yet, so not judged.
    sc.connected("S3", SH, "hv", "10kV", "2026-10-15 08:00", energized="2026-10-16 20:00",
                 state=None)  # fmt: skip
    # S4, small and micro on low voltage: connected when its meter is installed; 18 days,
    # 14 working days. No provincial whole-process limit in Shanghai (national only).
    sc.connected("S4", SH, "lv_small_micro", "380V", "2026-11-02 09:00",
                 installed="2026-11-20 09:00", kept=(None, 1))  # fmt: skip
    # Not counted: cancelled, or connected in 2025.
    sc.connected("S5", SH, "hv", "10kV", "2026-10-19 09:00", energized="2026-10-20 09:00",
                 state="cancelled")  # fmt: skip
    sc.connected("S6", SH, "hv", "10kV", "2025-12-01 09:00", energized="2025-12-20 09:00")
    # Yantai: low-voltage enterprises (2.0 and 2.0 working days), and a 10 kV whose grid part
    # (hv10.full_process: customer works and outside-line works excluded) counted 7.5.
    sc.connected("Y1", YT, "lv_non_residential", "380V", "2026-11-02 09:00",
                 installed="2026-11-04 09:00", kept=(1, 1))  # fmt: skip
    sc.connected("Y2", YT, "lv_small_micro", "380V", "2026-11-06 15:00",
                 installed="2026-11-10 15:00", kept=(1, 1))  # fmt: skip
    sc.connected("Y3", YT, "hv", "10kV", "2026-11-02 09:00", energized="2026-11-30 09:00",
                 kept=(0, None))  # fmt: skip
    sc.monitor("Y3", YT, "hv10.full_process", "full_process", "2026-11-02 09:00",
               "2026-11-30 09:00", 7.5)  # fmt: skip


def report(engine: Engine, unit: str | None, period: str = "year") -> ConnectionTimeReport:
    policies = PackPolicies()
    scope = rb.scope(policies, unit, date(2026, 1, 1), date(2026, 12, 31))
    with engine.connect() as conn:
        return rb.connection_time(conn, policies, scope, period)  # type: ignore[arg-type]


def test_connection_time_per_class_by_hand(data: Engine) -> None:
    r = report(data, SH)
    assert [(x.period, x.business_type, x.voltage, x.applications) for x in r.rows] == [
        ("2026", "hv", "10kV", 3),
        ("2026", "lv_small_micro", "380V", 1),
    ]
    hv, lv = r.rows
    # Working days 4.0, 6.5, 1.5: P90 between 4.0 and 6.5 at 0.8 of the way (linear ranks).
    assert hv.working_days == Stats(n=3, mean=4.0, median=4.0, p90=6.0)
    assert hv.calendar_days == Stats(n=3, mean=7.6667, median=7.0, p90=13.0)
    assert hv.judged == 2
    assert hv.within_provincial == Share(judged=2, within=1, share=0.5)
    assert hv.within_national == Share(judged=2, within=2, share=1.0)
    assert lv.working_days.mean == 14.0 and lv.calendar_days.mean == 18.0
    assert lv.within_provincial is None
    assert lv.within_national == Share(judged=1, within=1, share=1.0)
    assert hv.business_type_label == "高压新装"


def test_periods_follow_the_connection_in_the_units_zone(data: Engine) -> None:
    r = report(data, SH, "month")
    assert [(x.period, x.business_type, x.applications) for x in r.rows] == [
        ("2026-09", "hv", 1),
        ("2026-10", "hv", 2),
        ("2026-11", "lv_small_micro", 1),
    ]
    assert [x.period for x in report(data, SH, "quarter").rows] == ["2026-Q3", "2026-Q4", "2026-Q4"]
    assert {x.period for x in report(data, SH, "total").rows} == {"all"}


def test_shanghai_targets_carry_the_2020_figures_forward(data: Engine) -> None:
    targets = {t.label: t for t in report(data, SH).targets}
    ten = targets["10千伏客户平均接电时间"]
    assert (ten.year, ten.average_max, ten.unit, ten.applications) == (2026, 60, "day", 3)
    assert ten.average == 7.6667 and ten.met is True
    small = targets["小微企业低压客户平均接电时间"]
    assert (small.average_max, small.average, small.met) == (10, 18.0, False)
    high = targets["35千伏及以上客户平均接电时间"]
    assert (high.applications, high.average, high.met) == (0, None, None)
    assert ten.source.startswith("001_2f652a1a7e287c64.txt 四(二)6")


def test_yantai_targets_average_working_days_and_the_grid_part(data: Engine) -> None:
    r = report(data, None)
    targets = {t.label: t for t in r.targets}
    lv = targets["企业低压接入平均总时长"]
    assert (lv.unit, lv.applications, lv.average, lv.met) == ("workday", 2, 2.0, True)
    grid = targets["10千伏普通用户电网环节平均总时长"]
    assert (grid.measure, grid.monitor, grid.applications) == ("monitor", "hv10.full_process", 1)
    assert (grid.average, grid.met) == (7.5, False)
    # Every unit: Shanghai's targets too, each over its own unit's applications.
    assert "10千伏客户平均接电时间" in targets
    assert sum(x.applications for x in r.rows) == 7


def test_stage_times_by_rule_by_hand(db_engine: Engine) -> None:
    sc = Scenario(db_engine)
    sc.monitor("S1", SH, "hv.plan_reply", "plan_reply", "2026-09-21 10:00", "2026-09-28 10:00",
               4.0, kept=(1, 1))  # fmt: skip
    sc.monitor("S2", SH, "hv.plan_reply", "plan_reply", "2026-09-29 09:00", "2026-10-13 21:00",
               6.5, kept=(0, 1))  # fmt: skip
    sc.monitor("S1", SH, "hv.energize", "energize", "2026-09-28 08:00", "2026-09-28 10:00",
               2 / 24)  # fmt: skip
    sc.monitor("S2", SH, "hv.full_process", "full_process", "2026-09-29 09:00",
               "2026-10-13 21:00", 6.5)  # fmt: skip
    policies = PackPolicies()
    scope = rb.scope(policies, SH, date(2026, 9, 1), date(2026, 10, 31))
    with db_engine.connect() as conn:
        r = rb.stage_times(conn, policies, scope, "total")
    assert [(x.stage, x.monitor, x.applications) for x in r.rows] == [
        ("plan_reply", "hv.plan_reply", 2),
        ("energize", "hv.energize", 1),
    ]
    plan, energize = r.rows
    assert plan.counted == Stats(n=2, mean=5.25, median=5.25, p90=6.25)
    assert plan.counted_unit == "workday"
    assert plan.working_days == Stats(n=2, mean=5.25, median=5.25, p90=6.25)
    assert plan.calendar_days == Stats(n=2, mean=10.75, median=10.75, p90=13.75)
    assert plan.within_provincial == Share(judged=2, within=1, share=0.5)
    assert plan.monitor_label == policies.policy(SH).monitor("hv.plan_reply").label
    assert plan.stage_label == "供电方案答复"
    assert energize.counted.mean == 0.0833 and energize.calendar_days.mean == 0.0833
