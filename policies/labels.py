"""Chinese labels of the project's codes, as staff read them (docs/glossary.md).

Display text only: codes stay the identifiers everywhere, and where a label is shown the code
goes beside it in brackets (`供电方案答复 [plan_reply]`) so operators can search by it. Pure
data, imported inside the workflow sandbox.
"""

from __future__ import annotations

BUSINESS_TYPES: dict[str, str] = {
    "lv_residential": "低压居民新装",
    "lv_non_residential": "低压非居民新装",
    "lv_small_micro": "低压小微企业新装",
    "hv": "高压新装",
    "temporary": "装表临时用电",
    "dg_lv": "低压分布式电源并网",
    "dg_hv": "高压分布式光伏并网",
    "charging_residential": "居民充电设施",
    "charging_non_residential": "非居民充电设施",
    "base_station_5g": "5G基站",
    "irrigation_well": "机井",
    "capacity_reduction": "减容",
    "capacity_reduction_restore": "减容恢复",
    "suspension": "暂停",
    "suspension_restore": "暂停恢复",
    "meter_relocation": "移表",
    "temporary_removal": "暂拆",
    "reinstallation": "复装",
    "rename_residential": "居民更名",
    "rename_non_residential": "非居民更名",
    "transfer_residential": "居民过户",
    "transfer_non_residential": "非居民过户",
    "tariff_basis_change": "基本电价计费方式变更",
    "demand_adjustment": "调整需量用电",
    "tou_change_residential": "居民峰谷变更",
}

STAGES: dict[str, str] = {
    "appointment_confirm": "预约确认",
    "accept": "业务受理",
    "site_survey": "现场勘查",
    "plan_reply": "供电方案答复",
    "design_review": "设计文件审核",
    "mid_inspection": "中间检查",
    "completion_inspection": "竣工检验",
    "customer_works": "客户受电工程",
    "grid_works": "电网配套工程",
    "admin_approval": "行政审批",
    "fee_payment": "业务费收费",
    "contract": "供用电合同签订",
    "dispatch_agreement": "调度协议签订",
    "protection_setting": "保护定值整定",
    "meter_install": "装表",
    "outage_plan": "停(送)电计划",
    "energize": "送电",
    "terminal_commissioning": "终端调试",
    "archive": "归档",
    "equipment_sealing": "设备封停",
    # Coordination notices and the whole-process limit are timed like stages.
    "joint_survey": "联合勘查通知",
    "joint_drawing_review": "联合审图通知",
    "joint_mid_inspection": "联合中间检查通知",
    "joint_acceptance": "联合验收通知",
    "full_process": "全流程",
}

LEVELS: dict[str, str] = {
    "blue": "蓝色预警",
    "yellow": "黄色预警",
    "orange": "橙色预警",
    "red": "红色预警",
}

#: The State search attribute's values (contracts.search_attributes.STATE).
STATES: dict[str, str] = {
    "running": "办理中",
    "archived": "已归档",
    "cancelled": "已撤销",
}

#: Short names of the units that have a pack; the organisation's table, where the API can
#: read it, names the others.
UNITS: dict[str, str] = {
    "national": "国网",
    "henan": "河南",
    "henan/sanmenxia": "三门峡",
    "henan/sanmenxia/lingbao": "灵宝",
    "henan/xinyang": "信阳",
    "henan/xinyang/huangchuan": "潢川",
    "shanghai": "上海",
    "jilin-local": "吉林地方",
    "jilin-local/jingyu": "靖宇",
    "shandong": "山东",
    "shandong/yantai": "烟台",
}


def labelled(table: dict[str, str], code: str) -> str:
    """`标签 [code]`, or the bare code where it has no label."""
    label = table.get(code)
    return f"{label} [{code}]" if label else code
