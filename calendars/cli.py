"""Operator commands: python -m calendars {show,add,between,check,snapshot}."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from calendars.cache import get_calendar
from calendars.errors import CalendarDataError, CalendarError
from calendars.loader import check_all, data_dir, load_region

WEEKDAY = "一二三四五六日"


def _day(d: date) -> str:
    return f"{d.isoformat()} (周{WEEKDAY[d.weekday()]})"


def _ranges(days: dict[date, str]) -> list[tuple[date, date, str]]:
    out: list[tuple[date, date, str]] = []
    for d in sorted(days):
        name = days[d]
        if out and out[-1][2] == name and out[-1][1] + timedelta(days=1) == d:
            out[-1] = (out[-1][0], d, name)
        else:
            out.append((d, d, name))
    return out


def _show(args: argparse.Namespace) -> int:
    year: int = args.year
    data = load_region(args.region, args.data_dir)
    cal = get_calendar(args.region, root=args.data_dir)
    print(f"{data.region} {year}  (calendar version {data.version})")
    total = cal.workdays_between(date(year - 1, 12, 31), date(year, 12, 31))
    if year not in data.published_years:
        published = ", ".join(str(y) for y in data.published_years)
        print(f"PROVISIONAL: no published notice for {year}; weekdays are working days.")
        print(f"Published years: {published}")
        print(f"Working days: {total}")
        return 0
    for source in data.sources:
        if source.year != year:
            continue
        print(f"Source ({source.region}): {source.title} {source.number}, {source.published}")
        for amendment in source.amendments:
            print(f"  amended by {amendment.title} {amendment.number}, {amendment.published}")
    print("Holidays:")
    rest = {d: n for d, n in data.rest.items() if d.year == year}
    for start, end, name in _ranges(rest):
        length = (end - start).days + 1
        span = _day(start) if start == end else f"{_day(start)} - {_day(end)}"
        print(f"  {name}: {span}, {length} day{'s' if length > 1 else ''}")
    print("Make-up working days (调休):")
    for d in sorted(d for d in data.makeup if d.year == year):
        print(f"  {_day(d)}  ({data.makeup[d]})")
    print(f"Working days: {total}")
    return 0


def _add(args: argparse.Namespace) -> int:
    cal = get_calendar(args.region, root=args.data_dir, strict=args.strict)
    res = cal.add_workdays(args.date, args.n)
    flag = cal.is_provisional(res) or cal.is_provisional(args.date)
    print(f"{_day(res)}{'  PROVISIONAL' if flag else ''}")
    return 0


def _between(args: argparse.Namespace) -> int:
    cal = get_calendar(args.region, root=args.data_dir, strict=args.strict)
    n = cal.workdays_between(args.a, args.b)
    lo, hi = min(args.a, args.b), max(args.a, args.b)
    flag = any(cal.is_provisional(date(y, 1, 1)) for y in range(lo.year, hi.year + 1))
    print(f"{n}{'  PROVISIONAL' if flag else ''}")
    return 0


def _check(args: argparse.Namespace) -> int:
    root: Path = args.data_dir or data_dir()
    loaded, errors = check_all(root)
    for region in loaded:
        years = region.published_years
        span = f"{years[0]}-{years[-1]}" if years else "no years"
        print(f"ok   {region.region}: {len(region.files)} files, {span}, version {region.version}")
    for error in errors:
        print(f"FAIL {error}", file=sys.stderr)
    return 1 if errors else 0


def _snapshot(args: argparse.Namespace) -> int:
    cal = get_calendar(args.region, root=args.data_dir, clock=args.clock, tz=args.tz)
    print(cal.snapshot().model_dump_json(indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m calendars", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--region", default="CN", help="region code, e.g. CN or CN-HA")
    common.add_argument("--data-dir", type=Path, default=None, help="data folder to read")
    common.add_argument("--strict", action="store_true", help="refuse unpublished years")
    sub = parser.add_subparsers(dest="command", required=True)

    show = sub.add_parser("show", parents=[common], help="a year's holidays and make-up days")
    show.add_argument("year", type=int)
    show.set_defaults(func=_show)

    add = sub.add_parser("add", parents=[common], help="the n-th working day after a date")
    add.add_argument("date", type=date.fromisoformat)
    add.add_argument("n", type=int)
    add.set_defaults(func=_add)

    between = sub.add_parser("between", parents=[common], help="working days in (a, b]")
    between.add_argument("a", type=date.fromisoformat)
    between.add_argument("b", type=date.fromisoformat)
    between.set_defaults(func=_between)

    check = sub.add_parser("check", parents=[common], help="validate every data file")
    check.set_defaults(func=_check)

    snap = sub.add_parser("snapshot", parents=[common], help="print a calendar snapshot (JSON)")
    snap.add_argument("--clock", default="working_day", choices=["working_day", "office_hours"])
    snap.add_argument("--tz", default="Asia/Shanghai")
    snap.set_defaults(func=_snapshot)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except CalendarDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (CalendarError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code
