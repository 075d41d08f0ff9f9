"""The demo organisation `make run` loads: Henan → Sanmenxia → Lingbao → a supply station, and
Xinyang → Huangchuan, with every role the Henan warning rules name.

Invented people with invented numbers in the 1380000xxxx range. Loading is idempotent: units
and staff whose code already exists are left as they are (an operator's edits win).

The Sanmenxia city company holds every marketing role; Lingbao county has its own customer
manager and connection specialist only, so its warnings reach the city's directors by walking up
the unit tree; the province holds the provincial department heads.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from contracts.organisation import StaffIn, UnitIn, unit_parent
from readmodel.organisation import StaffRow, UnitRow

DEMO_UNITS: list[UnitIn] = [
    UnitIn(code="henan", name="国网河南省电力公司", level="province"),
    UnitIn(code="henan/sanmenxia", name="国网三门峡供电公司", level="city"),
    UnitIn(code="henan/sanmenxia/lingbao", name="国网灵宝市供电公司", level="county"),
    UnitIn(code="henan/sanmenxia/lingbao/yinzhuang", name="尹庄供电所", level="station"),
    UnitIn(code="henan/xinyang", name="国网信阳供电公司", level="city"),
    UnitIn(code="henan/xinyang/huangchuan", name="国网潢川县供电公司", level="county"),
]


def _s(
    code: str, name: str, roles: list[str], unit: str, phone: str, dept: str = "marketing"
) -> StaffIn:
    return StaffIn(code=code, name=name, roles=roles, unit=unit, department=dept, phone=phone)


SMX = "henan/sanmenxia"
LB = "henan/sanmenxia/lingbao"
HC = "henan/xinyang/huangchuan"

DEMO_STAFF: list[StaffIn] = [
    # Sanmenxia city company: marketing chain.
    _s("cm-001", "王客户经理", ["customer_manager"], SMX, "13800000001"),
    _s("cm-002", "李客户经理", ["customer_manager"], SMX, "13800000002"),
    _s("cs-smx", "赵业扩专责", ["connection_specialist"], SMX, "13800000011"),
    _s("mdd-smx", "钱营销副主任", ["marketing_deputy_director"], SMX, "13800000012"),
    _s("md-smx", "孙营销主任", ["marketing_director"], SMX, "13800000013"),
    _s("ex-smx", "周主管领导", ["executive"], SMX, "13800000014"),
    _s("pm-smx", "吴项目经理", ["project_manager"], SMX, "13800000015"),
    # Sanmenxia coordinating departments (协同部门): handler and chain per department.
    _s("co-ops-smx", "郑运检处理人", ["coordinator"], SMX, "13800000021", "operations"),
    _s("ddd-ops-smx", "冯运检副主任", ["dept_deputy_director"], SMX, "13800000022", "operations"),
    _s("dd-ops-smx", "陈运检主任", ["dept_director"], SMX, "13800000023", "operations"),
    _s("de-ops-smx", "褚运检主管领导", ["dept_executive"], SMX, "13800000024", "operations"),
    _s("co-dev-smx", "卫发展处理人", ["coordinator"], SMX, "13800000031", "development"),
    _s("ddd-dev-smx", "蒋发展副主任", ["dept_deputy_director"], SMX, "13800000032", "development"),
    _s("dd-dev-smx", "沈发展主任", ["dept_director"], SMX, "13800000033", "development"),
    _s("de-dev-smx", "韩发展主管领导", ["dept_executive"], SMX, "13800000034", "development"),
    _s("co-dsp-smx", "杨调控处理人", ["coordinator"], SMX, "13800000041", "dispatch"),
    _s("ddd-dsp-smx", "朱调控副主任", ["dept_deputy_director"], SMX, "13800000042", "dispatch"),
    _s("dd-dsp-smx", "秦调控主任", ["dept_director"], SMX, "13800000043", "dispatch"),
    _s("de-dsp-smx", "尤调控主管领导", ["dept_executive"], SMX, "13800000044", "dispatch"),
    _s("co-con-smx", "许建设处理人", ["coordinator"], SMX, "13800000051", "construction"),
    _s("ddd-con-smx", "何建设副主任", ["dept_deputy_director"], SMX, "13800000052", "construction"),
    _s("dd-con-smx", "吕建设主任", ["dept_director"], SMX, "13800000053", "construction"),
    _s("de-con-smx", "施建设主管领导", ["dept_executive"], SMX, "13800000054", "construction"),
    # Lingbao county: front line only; directors come from the city.
    _s("cm-101", "张客户经理", ["customer_manager"], LB, "13800000101"),
    _s("cs-lb", "孔业扩专责", ["connection_specialist"], LB, "13800000111"),
    # Huangchuan county: a small company with the marketing chain in one place.
    _s("cm-201", "曹客户经理", ["customer_manager"], HC, "13800000201"),
    _s(
        "cs-hc",
        "严业扩专责",
        ["connection_specialist", "marketing_deputy_director"],
        HC,
        "13800000211",
    ),
    _s("md-hc", "华营销主任", ["marketing_director", "executive"], HC, "13800000213"),
    # The province: 省公司专业部门主管领导, one per department.
    _s("pdh-mkt", "金营销部主管领导", ["provincial_dept_head"], "henan", "13800000901"),
    _s(
        "pdh-ops",
        "魏运检部主管领导",
        ["provincial_dept_head"],
        "henan",
        "13800000902",
        "operations",
    ),
    _s(
        "pdh-dev",
        "陶发展部主管领导",
        ["provincial_dept_head"],
        "henan",
        "13800000903",
        "development",
    ),
    _s(
        "pdh-dsp",
        "姜调控中心主管领导",
        ["provincial_dept_head"],
        "henan",
        "13800000904",
        "dispatch",
    ),
    _s(
        "pdh-con",
        "戚建设部主管领导",
        ["provincial_dept_head"],
        "henan",
        "13800000905",
        "construction",
    ),
]


def seed_demo_org(engine: Engine) -> int:
    """Insert the demo units and staff that are missing; returns how many rows were added."""
    added = 0
    with Session(engine) as session:
        have_units = set(session.exec(select(UnitRow.code)).all())
        for u in DEMO_UNITS:
            if u.code not in have_units:
                session.add(
                    UnitRow(code=u.code, name=u.name, level=u.level, parent=unit_parent(u.code))
                )
                added += 1
        session.flush()
        have_staff = set(session.exec(select(StaffRow.code)).all())
        for s in DEMO_STAFF:
            if s.code not in have_staff:
                session.add(StaffRow(**s.model_dump()))
                added += 1
        session.commit()
    return added
