"""The plan document (供电方案答复单): a supply plan rendered as a Chinese PDF.

`render_plan_pdf(plan, header)` returns the PDF's bytes; it reads only a CJK font file (fpdf2
embeds the glyphs it uses). The font is the first of `PLAN_PDF_FONT` (a path, optionally
`path#index` for a collection) and the Debian fonts the project's setup installs
(fonts-noto-cjk; fonts-wqy-microhei and fonts-arphic-uming also do).
"""

from __future__ import annotations

import calendar
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from pydantic import BaseModel, ConfigDict

from policies.plans.plan import Plan

#: (path, index in the collection): Noto Sans CJK SC is the third face of its collection.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)

POINT_KINDS_ZH = {
    "pole": "杆塔",
    "ring_main_unit": "环网柜",
    "branch_box": "分支箱",
    "switching_station": "开关站",
    "substation_bay": "变电站间隔",
    "lv_pillar": "低压分支箱",
    "meter_box": "表箱",
}
WORKS_ZH = {
    "lv": "低压配套工程",
    "lv_small_micro": "低压配套工程 (个体工商户和小微企业)",
    "t_connection": "线路T接",
    "overhead_line": "新、改建架空线路",
    "ring_main_unit": "新、改建环网柜或分支箱",
    "switching_station_or_cable": "新建开闭所或电缆线路",
    "substation_bay": "新建变电站间隔",
    "cable_line": "新建电缆线路",
}
TIERS_ZH = {
    "monthly": "月停（送）电计划",
    "biweekly": "双周停（送）电计划",
    "daily": "日停（送）电计划 随到随批",
    "live_line": "不停电作业 随报随接",
    "weekly": "周安排",
    "annual": "年统筹",
}
UNITS_ZH = {"workday": "个工作日", "day": "天", "workhour": "个工作时", "hour": "小时"}
FIELDS_ZH = {
    "capacity_kw": "用电容量 (kW)",
    "capacity_kva": "用电容量 (kVA)",
    "access_voltage": "接入电压",
    "power_source_count": "电源数量",
    "investment_boundary": "投资分界点",
    "metering_point": "计量点",
    "outside_line_m": "外线长度 (m)",
    "supporting_works": "配套工程",
    "supporting_works.limit": "配套工程建设时限",
    "admin_approval.required": "外线工程行政审批",
    "admin_approval.limit": "行政审批时限",
    "live_line": "不停电作业",
    "outage_tier": "停（送）电计划",
    "validity_months": "方案有效期 (月)",
}


class FontMissing(RuntimeError):
    """No CJK font is installed (install fonts-noto-cjk, or set PLAN_PDF_FONT)."""


class PlanHeader(BaseModel):
    """What the document says besides the plan: who it is for and when it was issued."""

    model_config = ConfigDict(frozen=True)

    application_no: str
    customer_name: str
    address: str | None = None
    unit_label: str
    issued_on: date
    plan_version: int = 1


@dataclass(frozen=True)
class Font:
    path: Path
    index: int


def find_cjk_font() -> Font | None:
    configured = os.environ.get("PLAN_PDF_FONT")
    candidates = list(FONT_CANDIDATES)
    if configured:
        path, _, number = configured.partition("#")
        candidates.insert(0, (path, int(number or 0)))
    for path, index in candidates:
        if Path(path).is_file():
            return Font(Path(path), index)
    return None


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class _Doc:
    def __init__(self, font: Font) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
        self.pdf.add_page()

    def title(self, text: str) -> None:
        self.pdf.set_font("cjk", size=18)
        self.pdf.cell(0, 12, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("cjk", size=12)
        self.pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def line(self, text: str, size: float = 10) -> None:
        self.pdf.set_font("cjk", size=size)
        self.pdf.multi_cell(0, 6, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def small(self, text: str) -> None:
        self.line(text, size=8)


def _limit(amount: float, unit: str) -> str:
    return f"{amount:g} {UNITS_ZH.get(unit, unit)}"


def _sources(doc: _Doc, plan: Plan) -> None:
    doc.heading("二、供电电源及接入点")
    if not plan.power_sources:
        doc.line("接入点待现场勘查或专业联动确定。")
    for i, src in enumerate(plan.power_sources, 1):
        cp = src.connection_point
        kind = POINT_KINDS_ZH.get(cp.kind, cp.kind)
        doc.line(
            f"电源{i}: 接入点 {cp.id} ({kind}, {cp.voltage}); 线路 {cp.feeder or '—'}; "
            f"变电站 {cp.substation or '—'}; 坐标 {cp.lon:.6f}, {cp.lat:.6f}; "
            f"估算路径长度 {src.route_m:g} 米"
        )


def _works_and_approval(doc: _Doc, plan: Plan) -> None:
    doc.heading("五、配套工程")
    works = plan.supporting_works
    if works is None:
        doc.line("无配套工程 (或随接入点确定)。")
    else:
        limit = _limit(works.limit.amount, works.limit.unit) if works.limit else "未规定"
        doc.line(f"{WORKS_ZH.get(works.type, works.type)}; 建设时限 {limit}")
        doc.small(f"依据: {works.source}")
    doc.heading("六、外线工程行政审批")
    approval = plan.admin_approval
    if approval.required:
        limit = _limit(approval.limit.amount, approval.limit.unit) if approval.limit else "未规定"
        doc.line(f"需办理行政审批 ({approval.mode or '掘路、占道、绿化'}); 审批时限 {limit}")
    else:
        doc.line(f"免审批 ({approval.mode or '承诺备案'})")
    doc.small(f"依据: {approval.source}")


def _decisions(doc: _Doc, plan: Plan) -> None:
    doc.heading("十、各项决定及依据条款")
    for d in plan.decisions:
        name = FIELDS_ZH.get(d.field, d.field)
        value = json.dumps(d.value, ensure_ascii=False)
        doc.small(f"{name}: {value}  —  {d.source}")


def render_plan_pdf(plan: Plan, header: PlanHeader, font: Font | None = None) -> bytes:
    """The 供电方案答复单 of `plan` as PDF bytes; FontMissing when no CJK font is found."""
    font = font or find_cjk_font()
    if font is None:
        raise FontMissing("no CJK font: install fonts-noto-cjk or set PLAN_PDF_FONT")
    doc = _Doc(font)
    doc.title("供电方案答复单")
    doc.line(f"申请编号: {header.application_no}    方案版本: 第{header.plan_version}版")
    doc.line(f"客户名称: {header.customer_name}")
    if header.address:
        doc.line(f"用电地址: {header.address}")
    doc.line(f"供电单位: {header.unit_label}    答复日期: {header.issued_on.isoformat()}")
    doc.heading("一、接入电压")
    doc.line(f"接入电压 {plan.access_voltage}; 申请容量 {plan.capacity_kva:g} kVA")
    _sources(doc, plan)
    doc.heading("三、投资分界点")
    doc.line(f"{plan.investment_boundary.label}")
    doc.small(f"依据: {plan.investment_boundary.source}")
    doc.heading("四、计量点")
    doc.line(plan.metering_point.label)
    _works_and_approval(doc, plan)
    doc.heading("七、停（送）电安排")
    tier = TIERS_ZH.get(plan.outage_tier, plan.outage_tier) if plan.outage_tier else "由调度确定"
    doc.line(f"{tier}; 不停电作业: {'具备' if plan.live_line else '不具备'}")
    doc.heading("八、方案有效期")
    until = add_months(header.issued_on, plan.validity_months)
    doc.line(f"{plan.validity_months} 个月, 至 {until.isoformat()}")
    doc.heading("九、专业联动")
    if plan.needs_joint_review:
        for r in plan.reasons:
            doc.line(f"{r.code}: {r.detail}")
    else:
        doc.line("无需专业联动。")
    _decisions(doc, plan)
    return bytes(doc.pdf.output())
