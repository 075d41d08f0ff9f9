"""The texts of the SMS: a warning to staff, a progress message to the customer.

A message carries what its reader must act on (the application number, the business, the
monitored item, the level, the instant) and nothing personal: no customer name, phone or
address, since a text passes through the gateway and the phone's lock screen.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from contracts.application import ProgressNotice, WarningNotice
from contracts.coordination import NoticeRecord
from policies.schema import ResolvedPolicy

LEVEL_LABELS = {
    "blue": "蓝色预警（即将超省内时限）",
    "yellow": "黄色预警（已超省内时限）",
    "orange": "橙色预警（即将超国网时限）",
    "red": "红色预警（已超国网时限）",
}
RESULT_LABELS = {"assess": "考核", "notify": "通报", "onsite_check": "现场核查"}
BUSINESS_LABELS = {
    "lv_residential": "低压居民新装/增容",
    "lv_non_residential": "低压非居民新装/增容",
    "lv_small_micro": "小微企业低压接入",
    "hv": "高压新装/增容",
    "temporary": "装表临时用电",
    "dg_lv": "低压分布式电源并网",
    "dg_hv": "10/35kV分布式光伏",
}
PROGRESS_TEMPLATES = {
    "accepted": "【国网供电】尊敬的客户，您的用电申请（工单{no}）已于{date}受理，"
    "我们将按承诺时限为您办理，可通过“网上国网”APP查询进度。",
    "plan_replied": "【国网供电】尊敬的客户，您的用电申请（工单{no}）供电方案已于{date}答复，"
    "请通过“网上国网”APP查看并确认。",
    "energized": "【国网供电】尊敬的客户，您的用电申请（工单{no}）已于{date}完成装表送电，"
    "感谢您的支持。",
}


def render_warning(notice: WarningNotice, policy: ResolvedPolicy) -> str:
    """The staff's text: level, application, business, the monitored item and its instant in
    the policy's zone, whether it is a coordination item, and what the result is."""
    tz = ZoneInfo(policy.settings.timezone)
    try:
        label = policy.monitor(notice.monitor).label or notice.code
    except KeyError:
        label = notice.code or notice.monitor
    business = BUSINESS_LABELS.get(notice.business_type, notice.business_type)
    voltage = f" {notice.voltage}" if notice.voltage else ""
    due = notice.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    result = RESULT_LABELS.get(notice.result or "", "")
    parts = [
        f"【业扩预警】{LEVEL_LABELS.get(notice.level, notice.level)}：",
        f"工单{notice.application_no}（{business}{voltage}）",
        f"「{label}」预警时点{due}。",
        "协同事项，" if notice.coordination else "",
        f"结果：{result}，" if result else "",
        "请及时处理。",
    ]
    return "".join(parts)


def render_progress(notice: ProgressNotice, tz: str) -> str:
    """The customer's text: the application number and the day, in the policy's zone."""
    day = notice.at.astimezone(ZoneInfo(tz))
    return PROGRESS_TEMPLATES[notice.kind].format(
        no=notice.application_no, date=f"{day.year}年{day.month}月{day.day}日"
    )


NOTICE_LABELS = {
    "joint_survey": "联合勘查通知",
    "joint_drawing_review": "联合审图通知",
    "joint_mid_inspection": "联合中间检查通知",
    "joint_acceptance": "联合验收通知",
    "protection_setting": "保护定值整定",
    "dispatch_agreement": "调度协议签订",
    "grid_works": "电网配套工程",
    "outage_plan": "送(停)电计划",
}


def render_notice_issued(notice: NoticeRecord, tz: str) -> str:
    """A department's coordinators: the notice, the application and when it is due."""
    label = NOTICE_LABELS.get(notice.kind, notice.kind)
    due = (
        f"，请于{notice.due_at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}前答复"
        if notice.due_at
        else "，请及时答复"
    )
    return f"【协同通知】工单{notice.application_no}「{label}」（第{notice.round}轮）已发出{due}。"


def render_notice_rejected(notice: NoticeRecord) -> str:
    """The customer manager: which department rejected which notice, with its opinion."""
    label = NOTICE_LABELS.get(notice.kind, notice.kind)
    opinion = (notice.opinion or "").strip()[:200]
    return (
        f"【协同通知退回】工单{notice.application_no}「{label}」被{notice.department}退回：{opinion}"
        "。请处理后重新发起。"
    )


#: A digest's text stays one message's length: the rest of the list is on the warning board.
DIGEST_LIMIT = 900


def render_import_digest(unit_name: str, overdue: list[tuple[str, str]]) -> str:
    """Staff's one message for the imported applications already overdue in a unit (their
    past warnings are not sent one by one): how many, the highest level, and their numbers."""
    order = list(LEVEL_LABELS)
    top = max((lvl for _, lvl in overdue), key=lambda x: order.index(x) if x in order else -1)
    head = (
        f"【业扩预警】导入工单汇总：{unit_name}导入的在途工单中{len(overdue)}件已超时限"
        f"（最高{LEVEL_LABELS.get(top, top)}）："
    )
    tail = "。请登录预警看板处理。"
    names: list[str] = []
    for number, _ in overdue:
        if len(head) + len("、".join([*names, number])) + len(tail) + 8 > DIGEST_LIMIT:
            names.append(f"等{len(overdue)}件")
            break
        names.append(number)
    return head + "、".join(names) + tail
