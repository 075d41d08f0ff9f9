"""Golden tests: every published year against the text of its State Council notice.

The notices' operative paragraphs are quoted below and parsed independently of the data files,
so a typo in a TOML file (or in the quotes) shows up as a disagreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from calendars import get_calendar, load_region

WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


@dataclass(frozen=True)
class Notice:
    number: str
    published: date
    text: str
    amendments: tuple[tuple[str, date, str], ...] = field(default=())


NOTICES: dict[int, Notice] = {
    2020: Notice(
        "国办发明电〔2019〕16号",
        date(2019, 11, 21),
        """
        一、元旦：2020年1月1日放假，共1天。
        二、春节：1月24日至30日放假调休，共7天。1月19日（星期日）、2月1日（星期六）上班。
        三、清明节：4月4日至6日放假调休，共3天。
        四、劳动节：5月1日至5日放假调休，共5天。4月26日（星期日）、5月9日（星期六）上班。
        五、端午节：6月25日至27日放假调休，共3天。6月28日（星期日）上班。
        六、国庆节、中秋节：10月1日至8日放假调休，共8天。9月27日（星期日）、10月10日（星期六）上班。
        """,
        (
            (
                "国办发明电〔2020〕1号",
                date(2020, 1, 27),
                "延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。",
            ),
        ),
    ),
    2021: Notice(
        "国办发明电〔2020〕27号",
        date(2020, 11, 25),
        """
        一、元旦：2021年1月1日至3日放假，共3天。
        二、春节：2月11日至17日放假调休，共7天。2月7日（星期日）、2月20日（星期六）上班。
        三、清明节：4月3日至5日放假调休，共3天。
        四、劳动节：5月1日至5日放假调休，共5天。4月25日（星期日）、5月8日（星期六）上班。
        五、端午节：6月12日至14日放假，共3天。
        六、中秋节：9月19日至21日放假调休，共3天。9月18日（星期六）上班。
        七、国庆节：10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。
        """,
    ),
    2022: Notice(
        "国办发明电〔2021〕11号",
        date(2021, 10, 25),
        """
        一、元旦：2022年1月1日至3日放假，共3天。
        二、春节：1月31日至2月6日放假调休，共7天。1月29日（星期六）、1月30日（星期日）上班。
        三、清明节：4月3日至5日放假调休，共3天。4月2日（星期六）上班。
        四、劳动节：4月30日至5月4日放假调休，共5天。4月24日（星期日）、5月7日（星期六）上班。
        五、端午节：6月3日至5日放假，共3天。
        六、中秋节：9月10日至12日放假，共3天。
        七、国庆节：10月1日至7日放假调休，共7天。10月8日（星期六）、10月9日（星期日）上班。
        """,
    ),
    2023: Notice(
        "国办发明电〔2022〕16号",
        date(2022, 12, 8),
        """
        一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。
        二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。
        三、清明节：4月5日放假，共1天。
        四、劳动节：4月29日至5月3日放假调休，共5天。4月23日（星期日）、5月6日（星期六）上班。
        五、端午节：6月22日至24日放假调休，共3天。6月25日（星期日）上班。
        六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。
        """,
    ),
    2024: Notice(
        "国办发明电〔2023〕7号",
        date(2023, 10, 25),
        """
        一、元旦：1月1日放假，与周末连休。
        二、春节：2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。
        三、清明节：4月4日至6日放假调休，共3天。4月7日（星期日）上班。
        四、劳动节：5月1日至5日放假调休，共5天。4月28日（星期日）、5月11日（星期六）上班。
        五、端午节：6月10日放假，与周末连休。
        六、中秋节：9月15日至17日放假调休，共3天。9月14日（星期六）上班。
        七、国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。
        """,
    ),
    2025: Notice(
        "国办发明电〔2024〕12号",
        date(2024, 11, 12),
        """
        一、元旦：1月1日（周三）放假1天，不调休。
        二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
        三、清明节：4月4日（周五）至6日（周日）放假，共3天。
        四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
        五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
        六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
        """,
    ),
    2026: Notice(
        "国办发明电〔2025〕7号",
        date(2025, 11, 4),
        """
        一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
        二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
        三、清明节：4月4日（周六）至6日（周一）放假，共3天。
        四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
        五、端午节：6月19日（周五）至21日（周日）放假，共3天。
        六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
        七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
        """,
    ),
}

# A date, optionally with its year, then an optional parenthesis that may name the weekday.
DATE = (
    r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日"
    r"(?:（(?P<{p}n>[^）]*)）)?"
)
RANGE = re.compile(DATE.format(p="a") + "(?:至" + DATE.format(p="b") + ")?放假")
ONE_DATE = re.compile(DATE.format(p="a"))
COUNT = re.compile(r"共(\d+)天|放假(\d+)天")
WEEKDAY_NOTE = re.compile(r"(?:星期|周)([一二三四五六日天])")


@dataclass
class Parsed:
    rest: dict[date, str] = field(default_factory=dict)
    makeup: set[date] = field(default_factory=set)


def _date(m: re.Match[str], p: str, year: int, month: int | None) -> date:
    y = int(m.group(f"{p}y")) if m.group(f"{p}y") else year
    mo = int(m.group(f"{p}m")) if m.group(f"{p}m") else month
    assert mo is not None, m.group(0)
    d = date(y, mo, int(m.group(f"{p}d")))
    note = m.group(f"{p}n")
    wd = WEEKDAY_NOTE.search(note) if note else None
    if wd:
        assert d.weekday() == WEEKDAYS[wd.group(1)], f"the notice says {note} for {d}"
    return d


def parse_notice(year: int, notice: Notice) -> Parsed:
    out = Parsed()
    for raw in notice.text.strip().splitlines():
        line = raw.strip()
        name = line.split("、", 1)[1].split("：", 1)[0]
        for sentence in line.split("：", 1)[1].split("。"):
            if "放假" in sentence:
                m = RANGE.search(sentence)
                assert m, sentence
                start = _date(m, "a", year, None)
                end = _date(m, "b", start.year, start.month) if m.group("bd") else start
                days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
                count = COUNT.search(sentence)
                if count:
                    assert len(days) == int(count.group(1) or count.group(2)), sentence
                for d in days:
                    out.rest[d] = name
            elif sentence.endswith("上班"):
                for m in ONE_DATE.finditer(sentence):
                    out.makeup.add(_date(m, "a", year, None))
    for _, _, text in notice.amendments:
        extended = re.search(r"延长(\d{4})年(春节)假期至" + DATE.format(p="a"), text)
        assert extended, text
        until = _date(extended, "a", year, None)
        last = max(d for d, n in out.rest.items() if n == extended.group(2))
        d = last + timedelta(days=1)
        while d <= until:
            out.rest[d] = extended.group(2)
            out.makeup.discard(d)  # a make-up day inside the extension no longer applies
            d += timedelta(days=1)
    return out


CN = get_calendar("CN")
DATA = load_region("CN")


def test_every_published_year_has_a_quoted_notice() -> None:
    assert set(NOTICES) == set(CN.published_years)


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_year_matches_its_notice(year: int) -> None:
    parsed = parse_notice(year, NOTICES[year])
    d = date(year, 1, 1)
    while d.year == year:
        expected = (d.weekday() < 5 and d not in parsed.rest) or d in parsed.makeup
        assert CN.is_workday(d) is expected, f"{d}: notice says workday={expected}"
        d += timedelta(days=1)
    # Days of a range that spill into the neighbouring year are rest days there too.
    for d in parsed.rest:
        assert not CN.is_workday(d), d
    # The holiday names of the data file are the notice's.
    for d, name in parsed.rest.items():
        if d.year == year and d in DATA.rest:
            assert DATA.rest[d].startswith(name), (d, DATA.rest[d], name)


@pytest.mark.parametrize("year", sorted(NOTICES))
def test_year_cites_its_notice_and_amendments(year: int) -> None:
    notice = NOTICES[year]
    source = next(s for s in CN.sources if s.year == year and s.region == "CN")
    assert source.number == notice.number
    assert source.published == notice.published
    assert source.title == f"国务院办公厅关于{year}年部分节假日安排的通知"
    assert [(a.number, a.published) for a in source.amendments] == [
        (n, p) for n, p, _ in notice.amendments
    ]


def test_2020_amendment_extended_spring_festival() -> None:
    assert not CN.is_workday(date(2020, 1, 31))
    assert not CN.is_workday(date(2020, 2, 1))
    assert CN.is_workday(date(2020, 2, 3))
    assert CN.add_workdays(date(2020, 1, 23), 1) == date(2020, 2, 3)


def test_2025_rule_change_adds_a_day_to_spring_festival_and_labour_day() -> None:
    # 国务院令第795号: from 2025, 除夕 and 5 月 2 日 are statutory holidays.
    assert not CN.is_workday(date(2025, 1, 28))  # 除夕 2025
    assert CN.is_workday(date(2024, 2, 9))  # 除夕 2024, before the change
    assert not CN.is_workday(date(2025, 5, 2))
