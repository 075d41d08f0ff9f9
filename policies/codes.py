"""The project's codes (docs/glossary.md), as the policy schema accepts them.

Pure data: imported by the schema and the engine inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import re

#: A unit's code: its path in the organisation's tree, e.g. henan/sanmenxia (lowercase, '/'
#: between levels). The policy packs, applications and the organisation all name units so.
UNIT_CODE_RE = re.compile(r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)*$")

#: Administrative approvals an outside line's route may need (行政审批: 掘路, 占道, 绿化;
#: docs/glossary.md): the kinds a supply plan lists and the approval system reports.
PERMIT_KINDS: tuple[str, ...] = ("road_excavation", "road_occupation", "greenery")

#: Change services (变更类业务, docs/glossary.md).
CHANGE_SERVICES: frozenset[str] = frozenset(
    {
        "capacity_reduction",
        "capacity_reduction_restore",
        "suspension",
        "suspension_restore",
        "meter_relocation",
        "temporary_removal",
        "reinstallation",
        "rename_residential",
        "rename_non_residential",
        "transfer_residential",
        "transfer_non_residential",
        "tariff_basis_change",
        "demand_adjustment",
        "tou_change_residential",
    }
)

#: New services and added capacity (新装增容).
NEW_SERVICES: frozenset[str] = frozenset(
    {
        "lv_residential",
        "lv_non_residential",
        "lv_small_micro",
        "hv",
        "temporary",
        "dg_lv",
        "dg_hv",
        "charging_residential",
        "charging_non_residential",
        "base_station_5g",
        "irrigation_well",
    }
)

BUSINESS_TYPES: frozenset[str] = NEW_SERVICES | CHANGE_SERVICES

VOLTAGES: frozenset[str] = frozenset(
    {"220V", "380V", "10kV", "20kV", "35kV", "66kV", "110kV", "220kV"}
)

NOTICE_CODES: frozenset[str] = frozenset(
    {"joint_survey", "joint_drawing_review", "joint_mid_inspection", "joint_acceptance"}
)

#: Monitor code for whole-process limits (全流程).
FULL_PROCESS = "full_process"

#: Every stage and coordination-notice code in the order they happen in a process, whole-process
#: limits last: the order an evaluation reports its monitors in.
STAGE_ORDER: tuple[str, ...] = (
    "appointment_confirm",
    "accept",
    "site_survey",
    "joint_survey",
    "plan_reply",
    "admin_approval",
    "grid_works",
    "design_review",
    "joint_drawing_review",
    "customer_works",
    "mid_inspection",
    "joint_mid_inspection",
    "completion_inspection",
    "joint_acceptance",
    "fee_payment",
    "contract",
    "meter_install",
    "dispatch_agreement",
    "protection_setting",
    "outage_plan",
    "energize",
    # Project addition (docs/policies.md, "New codes"): 设备封停 of the Henan change-service
    # table, timed from site survey to archive for suspensions.
    "equipment_sealing",
    "terminal_commissioning",
    "archive",
    FULL_PROCESS,
)

#: Stage codes (环节, docs/glossary.md): the ordered list less the notices and whole-process limits.
STAGE_CODES: frozenset[str] = frozenset(STAGE_ORDER) - NOTICE_CODES - {FULL_PROCESS}

LEVELS: tuple[str, ...] = ("blue", "yellow", "orange", "red")

RESULTS: frozenset[str] = frozenset({"assess", "notify", "onsite_check"})

ROLES: frozenset[str] = frozenset(
    {
        "customer_manager",
        "project_manager",
        "coordinator",
        "connection_specialist",
        "marketing_deputy_director",
        "marketing_director",
        "executive",
        "dept_deputy_director",
        "dept_director",
        "dept_executive",
        "provincial_dept_head",
        "operator",
        "integration",
        # Manages units and staff (docs/access.md).
        "admin",
    }
)

DEPARTMENTS: frozenset[str] = frozenset(
    {
        "development",
        "operations",
        "dispatch",
        "distribution",
        "construction",
        "materials",
        "finance",
        "service_command",
        "marketing",
    }
)

OUTAGE_TIERS: frozenset[str] = frozenset({"monthly", "biweekly", "daily", "live_line"})

SUPPORTING_WORKS_TYPES: frozenset[str] = frozenset(
    {
        "lv",
        "lv_small_micro",
        "t_connection",
        "overhead_line",
        "ring_main_unit",
        "switching_station_or_cable",
        "substation_bay",
        "cable_line",
    }
)

DG_VARIANTS: frozenset[str] = frozenset({"pv_single_point", "pv_multi_point", "other"})

#: Channels an application arrives by. `online` covers 网上国网 APP, WeChat, 95598 website,
#: 电e宝 and the government portal; `proactive` is 主动办电 from a business-registration push;
#: `reserve` is a reserve project (储备项目) converted into a formal application.
CHANNELS: frozenset[str] = frozenset({"counter", "online", "phone", "proactive", "reserve"})

AREAS: frozenset[str] = frozenset({"urban", "rural"})

#: Event suffixes; `pause` and `resume` are bare events.
EVENT_SUFFIXES: tuple[str, ...] = ("started", "completed")
PAUSE_EVENT = "pause"
RESUME_EVENT = "resume"
