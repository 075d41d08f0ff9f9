"""Warnings raised in the period, by level, unit and stage (the stage or notice a rule times,
or the whole process), with how many are still open."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from domain.reports.common import group_by
from policies import labels
from policies.codes import LEVELS, STAGE_ORDER

#: A row of readmodel.report_queries.warning_counts: (level, unit, code, raised, open).
WarningCountRow = tuple[Any, ...]
_LEVEL = {lvl: i for i, lvl in enumerate(LEVELS)}
_STAGE = {code: i for i, code in enumerate(STAGE_ORDER)}


class WarningCount(BaseModel):
    level: str
    level_label: str
    unit: str
    stage: str
    stage_label: str
    raised: int
    open: int


class WarningTotal(BaseModel):
    key: str
    label: str
    raised: int
    open: int


class WarningTotals(BaseModel):
    by_level: list[WarningTotal]
    by_unit: list[WarningTotal]
    by_stage: list[WarningTotal]


def warning_counts(rows: Sequence[WarningCountRow]) -> list[WarningCount]:
    items = [
        WarningCount(
            level=level,
            level_label=labels.LEVELS.get(level) or level,
            unit=unit,
            stage=code,
            stage_label=labels.STAGES.get(code) or code,
            raised=int(raised),
            open=int(still or 0),
        )
        for level, unit, code, raised, still in rows
    ]
    items.sort(key=lambda w: (_LEVEL.get(w.level, 9), w.unit, _STAGE.get(w.stage, 99), w.stage))
    return items


def warning_totals(items: Sequence[WarningCount]) -> WarningTotals:
    def totals(key: str, label: dict[str, str], order: dict[str, int]) -> list[WarningTotal]:
        groups = group_by(items, lambda w: getattr(w, key))
        return [
            WarningTotal(
                key=str(k),
                label=label.get(str(k), str(k)),
                raised=sum(w.raised for w in ws),
                open=sum(w.open for w in ws),
            )
            for k, ws in sorted(
                groups.items(), key=lambda kv: (order.get(str(kv[0]), 99), str(kv[0]))
            )
        ]

    return WarningTotals(
        by_level=totals("level", labels.LEVELS, _LEVEL),
        by_unit=totals("unit", labels.UNITS, {}),
        by_stage=totals("stage", labels.STAGES, _STAGE),
    )
