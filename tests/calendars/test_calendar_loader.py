"""Loading, validation (with file and line), regional overrides and the version string."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from calendars import CalendarDataError, get_calendar, load_region
from calendars.loader import DATA_DIR, DATA_DIR_ENV, check_all, region_chain

GOOD = """\
region = "CN"
year = 2030

[notice]
title = "国务院办公厅关于2030年部分节假日安排的通知"
number = "国办发明电〔2029〕1号"
published = 2029-11-01

[[holidays]]
name = "元旦"
start = 2030-01-01
end = 2030-01-01

[[holidays]]
name = "劳动节"
start = 2030-05-01
end = 2030-05-05
makeup = [2030-04-28]
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR / "CN", tmp_path / "CN")
    return tmp_path


def write(root: Path, region: str, year: int, text: str) -> Path:
    folder = root / region
    folder.mkdir(exist_ok=True)
    path = folder / f"{year}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(root: Path, region: str = "CN") -> CalendarDataError:
    with pytest.raises(CalendarDataError) as info:
        load_region(region, root)
    return info.value


def test_packaged_data_loads_and_checks_clean() -> None:
    loaded, errors = check_all(DATA_DIR)
    assert errors == []
    cn = next(r for r in loaded if r.region == "CN")
    assert cn.published_years == list(range(2020, 2027))
    assert cn.rest[date(2026, 10, 1)] == "国庆节"
    assert cn.makeup[date(2026, 9, 20)] == "国庆节"


def test_a_good_new_year_is_published(root: Path) -> None:
    before = get_calendar("CN", root=root)
    write(root, "CN", 2030, GOOD)
    after = get_calendar("CN", root=root, reload=True)
    assert 2030 in after.published_years
    assert after.version != before.version
    assert not after.is_workday(date(2030, 5, 2))
    assert after.is_workday(date(2030, 4, 28))
    assert after.is_provisional(date(2029, 6, 1))  # a gap year stays provisional


def test_malformed_toml_names_file_and_line(root: Path) -> None:
    path = write(root, "CN", 2030, GOOD.replace("end = 2030-05-05", "end = 2030-05-05 oops"))
    err = refused(root)
    assert err.path == path
    assert err.line == 17
    assert f"{path}:17" in str(err)


def test_makeup_day_on_a_weekday_is_refused_with_its_line(root: Path) -> None:
    path = write(root, "CN", 2030, GOOD.replace("makeup = [2030-04-28]", "makeup = [2030-04-29]"))
    err = refused(root)
    assert (err.path, err.line) == (path, 18)
    assert "not a weekend day" in str(err)


def test_out_of_year_date_is_refused(root: Path) -> None:
    write(root, "CN", 2030, GOOD.replace("start = 2030-01-01", "start = 2029-12-31"))
    err = refused(root)
    assert err.line == 11
    assert "outside the file's year 2030" in str(err)


def test_overlapping_holidays_are_refused(root: Path) -> None:
    text = GOOD + '\n[[holidays]]\nname = "重复"\nstart = 2030-05-03\nend = 2030-05-06\n'
    write(root, "CN", 2030, text)
    err = refused(root)
    assert err.line == 22
    assert "overlaps 劳动节" in str(err)


def test_makeup_inside_a_holiday_is_refused(root: Path) -> None:
    write(root, "CN", 2030, GOOD.replace("makeup = [2030-04-28]", "makeup = [2030-05-04]"))
    err = refused(root)
    assert "inside 劳动节" in str(err)
    assert err.line == 18


def test_duplicate_makeup_is_refused(root: Path) -> None:
    write(root, "CN", 2030, GOOD.replace("[2030-04-28]", "[2030-04-28, 2030-04-28]"))
    assert "listed twice" in str(refused(root))


def test_reversed_range_and_wrong_types(root: Path) -> None:
    write(root, "CN", 2030, GOOD.replace("end = 2030-01-01", "end = 2029-01-01"))
    assert "outside the file's year" in str(refused(root))
    write(root, "CN", 2030, GOOD.replace("end = 2030-05-05", "end = 2030-04-30"))
    assert "ends (2030-04-30) before it starts" in str(refused(root))
    write(root, "CN", 2030, GOOD.replace("start = 2030-05-01", 'start = "2030-05-01"'))
    err = refused(root)
    assert "must be a TOML date" in str(err)


def test_unknown_keys_and_wrong_headers(root: Path) -> None:
    write(root, "CN", 2030, GOOD.replace("makeup = [", "make_up = ["))
    err = refused(root)
    assert "unknown key 'make_up'" in str(err)
    assert err.line == 18
    write(root, "CN", 2030, GOOD.replace("year = 2030", "year = 2031"))
    assert refused(root).line == 2
    write(root, "CN", 2030, GOOD.replace('region = "CN"', 'region = "CN-HA"'))
    assert refused(root).line == 1
    write(root, "CN", 2030, GOOD.replace('number = "国办发明电〔2029〕1号"\n', ""))
    assert "'number' must be a non-empty string" in str(refused(root))


def test_file_names_must_be_years(root: Path) -> None:
    (root / "CN" / "next.toml").write_text(GOOD, encoding="utf-8")
    assert "YYYY.toml" in str(refused(root))


def test_amendment_must_cancel_a_real_makeup_day(root: Path) -> None:
    text = GOOD + (
        '\n[[amendments]]\ntitle = "t"\nnumber = "n1"\npublished = 2030-01-10\n'
        "cancel_makeup = [2030-04-27]\n"
    )
    write(root, "CN", 2030, text)
    err = refused(root)
    assert "not a make-up day" in str(err)
    assert err.line == 24


def test_amendments_apply_in_publication_order(root: Path) -> None:
    text = GOOD + (
        '\n[[amendments]]\ntitle = "second"\nnumber = "n2"\npublished = 2030-03-01\n'
        "add_makeup = [2030-04-28]\n"
        '\n[[amendments]]\ntitle = "first"\nnumber = "n1"\npublished = 2030-02-01\n'
        "cancel_makeup = [2030-04-28]\nremove_holidays = [2030-05-05]\n"
    )
    write(root, "CN", 2030, text)
    cal = get_calendar("CN", root=root, reload=True)
    assert cal.is_workday(date(2030, 4, 28))
    assert cal.is_workday(date(2030, 5, 6))
    assert not cal.is_workday(date(2030, 5, 3))
    src = next(s for s in cal.sources if s.year == 2030)
    assert [a.number for a in src.amendments] == ["n1", "n2"]


REGIONAL_2020 = """\
region = "CN-HB"
year = 2020

[notice]
title = "湖北省人民政府关于延迟企业复工和学校开学的通知（示例）"
number = "示例〔2020〕1号"
published = 2020-01-30

[[holidays]]
name = "春节（湖北延长）"
start = 2020-02-03
end = 2020-02-13
"""


def test_regional_file_overrides_national(root: Path) -> None:
    write(root, "CN-HB", 2020, REGIONAL_2020)
    hubei = get_calendar("CN-HB", root=root, reload=True)
    national = get_calendar("CN", root=root, reload=True)
    assert national.is_workday(date(2020, 2, 3))
    assert not hubei.is_workday(date(2020, 2, 3))
    assert hubei.is_workday(date(2020, 2, 14))
    assert hubei.version != national.version
    assert hubei.workdays_between(date(2020, 1, 1), date(2021, 1, 1)) == (
        national.workdays_between(date(2020, 1, 1), date(2021, 1, 1)) - 9
    )
    assert [s.region for s in hubei.sources if s.year == 2020] == ["CN", "CN-HB"]
    # A sub-region inherits both levels.
    assert not get_calendar("CN-HB-WH", root=root).is_workday(date(2020, 2, 3))


def test_regional_file_may_not_overlap_national(root: Path) -> None:
    write(root, "CN-HB", 2020, REGIONAL_2020.replace("2020-02-03", "2020-02-02"))
    err = refused(root, "CN-HB")
    assert "overlaps 春节（延长）" in str(err)
    assert err.line == 11


def test_regional_file_needs_a_national_year(root: Path) -> None:
    write(root, "CN-HB", 2019, REGIONAL_2020.replace("2020", "2019"))
    assert "no national" in str(refused(root, "CN-HB"))


def test_check_all_reports_every_broken_region(root: Path) -> None:
    write(root, "CN-HB", 2020, REGIONAL_2020.replace('region = "CN-HB"', 'region = "CN"'))
    loaded, errors = check_all(root)
    assert [r.region for r in loaded] == ["CN"]
    assert len(errors) == 1
    assert errors[0].line == 1


def test_unknown_region_and_chain() -> None:
    assert region_chain("CN-HA-XY") == ("CN", "CN-HA", "CN-HA-XY")
    with pytest.raises(CalendarDataError, match="no calendar data for region US"):
        load_region("US")


def test_data_dir_from_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(root, "CN", 2030, GOOD)
    monkeypatch.setenv(DATA_DIR_ENV, str(root))
    assert 2030 in get_calendar("CN", reload=True).published_years
    monkeypatch.delenv(DATA_DIR_ENV)
    assert 2030 not in get_calendar("CN", reload=True).published_years


def test_version_changes_with_any_file(root: Path) -> None:
    v1 = load_region("CN", root).version
    path = root / "CN" / "2021.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    v2 = load_region("CN", root).version
    assert v1 != v2
    assert load_region("CN", root).version == v2
