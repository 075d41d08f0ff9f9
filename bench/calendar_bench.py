"""Benchmark of calendars' working-time arithmetic against numpy and the holidays package.

    .venv/bin/python bench/calendar_bench.py            # 100,000 random inputs per operation
    .venv/bin/python bench/calendar_bench.py --quick    # 10,000

Baselines, measured in the same run on the same inputs:
- numpy: busday_offset / busday_count called once per input, with a busdaycalendar whose
  weekmask is all seven days and whose holidays are every rest day (that is the only way numpy
  can express a Saturday make-up working day); the inputs are pre-converted to datetime64.
- numpy vectorised: the same calls over whole arrays (the reference for our batch form).
- holidays: holidays.China get_nth_working_day / get_working_days_count / is_working_day, with
  its data cut to ours (see holidays_like_ours). They walk day by day, so they run on a
  subsample (--holidays-inputs); the rate is still per operation.
Every baseline's answers are checked against ours before its time is reported.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import holidays
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calendars import Calendar, batch, get_calendar

FIRST, LAST = date(2020, 1, 1), date(2026, 12, 31)
SPAN_DAYS = 3 * 365
TEN_DAYS = timedelta(days=10)


def best_rate(fn: Callable[[], object], count: int, repeat: int) -> float:
    """Operations per second of fn (which performs `count` operations), best of `repeat`."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def rest_day_calendar(cal: Calendar, first: date, last: date) -> np.busdaycalendar:
    rest = [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if not cal.is_workday(first + timedelta(days=i))
    ]
    return np.busdaycalendar(weekmask="1111111", holidays=np.array(rest, dtype="datetime64[D]"))


class Inputs:
    def __init__(self, n: int, seed: int) -> None:
        rng = random.Random(seed)
        days = (LAST - FIRST).days
        self.dates = [FIRST + timedelta(days=rng.randint(0, days)) for _ in range(n)]
        self.others = [d + timedelta(days=rng.randint(-SPAN_DAYS, SPAN_DAYS)) for d in self.dates]
        zone = get_calendar("CN").zone
        self.instants = [
            datetime.combine(d, datetime.min.time(), zone)
            + timedelta(seconds=rng.randint(1, 86_399), microseconds=rng.randint(0, 999_999))
            for d in self.dates
        ]
        self.d64: list[Any] = [np.datetime64(d, "D") for d in self.dates]
        self.o64: list[Any] = [np.datetime64(d, "D") for d in self.others]
        self.d64_array = np.array(self.dates, dtype="datetime64[D]")
        self.o64_array = np.array(self.others, dtype="datetime64[D]")


def holidays_like_ours() -> holidays.HolidayBase:
    """holidays.China with the same data as ours: its 2020-2026 days (identical, see the
    cross-check tests), and outside them the weekday rule, where it would otherwise use the
    2019 notice and its own estimates for 2027 on."""
    hol = holidays.country_holidays("CN", years=range(2010, 2041), expand=False)
    for d in [d for d in hol if not FIRST <= d <= LAST]:
        hol.pop(d)
    hol.weekend_workdays = {d for d in hol.weekend_workdays if FIRST <= d <= LAST}
    return hol


# -- the operations, one implementation per library ------------------------------------------


def ours_add(cal: Calendar, dates: list[date], n: int) -> list[date]:
    f = cal.add_workdays
    return [f(d, n) for d in dates]


def numpy_add(bdc: np.busdaycalendar, d64: list[Any], n: int) -> list[Any]:
    # roll="backward" then +n is exactly "the n-th working day strictly after d" for n > 0.
    f = np.busday_offset
    return [f(d, n, roll="backward", busdaycal=bdc) for d in d64]


def holidays_add(h: holidays.HolidayBase, dates: list[date], n: int) -> list[date]:
    f = h.get_nth_working_day
    return [f(d, n) for d in dates]


def ours_between(cal: Calendar, a: list[date], b: list[date]) -> list[int]:
    f = cal.workdays_between
    return [f(x, y) for x, y in zip(a, b, strict=True)]


def numpy_between(bdc: np.busdaycalendar, a: list[Any], b: list[Any]) -> list[Any]:
    # busday_count counts [a, b) (and is antisymmetric); the shift to our convention is made in
    # the answer check, outside the timed loop, so the timed call is numpy's plain one.
    f = np.busday_count
    return [f(x, y, busdaycal=bdc) for x, y in zip(a, b, strict=True)]


def holidays_between(h: holidays.HolidayBase, a: list[date], b: list[date]) -> list[int]:
    f = h.get_working_days_count
    return [f(x, y) for x, y in zip(a, b, strict=True)]


def ours_work_time(cal: Calendar, instants: list[datetime]) -> list[datetime]:
    f = cal.add_work_time
    return [f(t, TEN_DAYS) for t in instants]


def numpy_work_time(
    bdc: np.busdaycalendar, cal: Calendar, instants: list[datetime]
) -> list[datetime]:
    zone = cal.zone
    out: list[datetime] = []
    midnight = datetime.min.time()
    for t in instants:
        local = t.astimezone(zone)
        d = np.datetime64(local.date(), "D")
        if np.is_busday(d, busdaycal=bdc):
            day: Any = np.busday_offset(d, 10, roll="forward", busdaycal=bdc).item()
            out.append(datetime.combine(day, local.timetz()))
        else:
            # From a rest day the clock starts at the next working day's 00:00 and 10 working
            # days end at the 10th working day's 24:00.
            last: Any = np.busday_offset(d, 9, roll="forward", busdaycal=bdc).item()
            out.append(datetime.combine(last + timedelta(days=1), midnight, zone))
    return out


def holidays_work_time(
    h: holidays.HolidayBase, cal: Calendar, instants: list[datetime]
) -> list[datetime]:
    zone = cal.zone
    out: list[datetime] = []
    midnight = datetime.min.time()
    for t in instants:
        local = t.astimezone(zone)
        d = local.date()
        if h.is_working_day(d):
            out.append(datetime.combine(h.get_nth_working_day(d, 10), local.timetz()))
        else:
            day = h.get_nth_working_day(d, 10)
            out.append(datetime.combine(day + timedelta(days=1), midnight, zone))
    return out


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What every measurement shares: the libraries' calendars, the inputs (all of them for
    ours and numpy, the subsample for holidays) and how many times each is timed."""

    cal: Calendar
    bdc: np.busdaycalendar
    hol: holidays.HolidayBase
    inp: Inputs
    sub: Inputs
    n_inputs: int
    n_hol: int
    rep: int


ScalarRow = tuple[str, float, float, float]
BatchRow = tuple[str, float, float]


def parse_run(argv: list[str] | None) -> Run:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 inputs instead of 100,000")
    parser.add_argument("--inputs", type=int, default=None)
    parser.add_argument("--holidays-inputs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args(argv)
    n_inputs = args.inputs or (10_000 if args.quick else 100_000)
    n_hol = args.holidays_inputs or (300 if args.quick else 2_000)
    cal = get_calendar("CN")
    return Run(
        cal=cal,
        bdc=rest_day_calendar(cal, date(2010, 1, 1), date(2040, 12, 31)),
        hol=holidays_like_ours(),
        inp=Inputs(n_inputs, args.seed),
        sub=Inputs(n_hol, args.seed),
        n_inputs=n_inputs,
        n_hol=n_hol,
        rep=args.repeat,
    )


def add_rows(r: Run) -> list[ScalarRow]:
    """add_workdays(d, 10) and (d, 1000)."""
    cal, bdc, hol, inp, sub = r.cal, r.bdc, r.hol, r.inp, r.sub
    rows: list[ScalarRow] = []
    for n in (10, 1000):
        ours = ours_add(cal, inp.dates, n)
        assert [x.item() for x in numpy_add(bdc, inp.d64, n)] == ours, f"numpy add {n}"
        assert holidays_add(hol, sub.dates, n) == ours_add(cal, sub.dates, n), f"holidays {n}"
        rows.append(
            (
                f"add_workdays(d, {n})",
                best_rate(partial(ours_add, cal, inp.dates, n), r.n_inputs, r.rep),
                best_rate(partial(numpy_add, bdc, inp.d64, n), r.n_inputs, r.rep),
                best_rate(partial(holidays_add, hol, sub.dates, n), r.n_hol, 1),
            )
        )
    return rows


def between_row(r: Run) -> ScalarRow:
    """workdays_between over spans up to 3 years."""
    cal, bdc, hol, inp, sub = r.cal, r.bdc, r.hol, r.inp, r.sub
    ours_b = ours_between(cal, inp.dates, inp.others)
    shifted = [
        int(np.busday_count(a + 1, b + 1, busdaycal=bdc))
        if b >= a
        else -int(np.busday_count(b, a, busdaycal=bdc))
        for a, b in zip(inp.d64, inp.o64, strict=True)
    ]
    assert shifted == ours_b, "numpy between"
    closed = [
        cal.workdays_between(min(a, b) - timedelta(days=1), max(a, b))
        for a, b in zip(sub.dates, sub.others, strict=True)
    ]
    assert holidays_between(hol, sub.dates, sub.others) == closed, "holidays between"
    return (
        "workdays_between(a, b), |b-a| <= 3 y",
        best_rate(lambda: ours_between(cal, inp.dates, inp.others), r.n_inputs, r.rep),
        best_rate(lambda: numpy_between(bdc, inp.d64, inp.o64), r.n_inputs, r.rep),
        best_rate(lambda: holidays_between(hol, sub.dates, sub.others), r.n_hol, 1),
    )


def work_time_row(r: Run) -> ScalarRow:
    """add_work_time(t, 10 working days)."""
    cal, bdc, hol, inp, sub = r.cal, r.bdc, r.hol, r.inp, r.sub
    ours_t = ours_work_time(cal, inp.instants)
    assert numpy_work_time(bdc, cal, inp.instants) == ours_t, "numpy work time"
    assert holidays_work_time(hol, cal, sub.instants) == ours_work_time(cal, sub.instants)
    return (
        "add_work_time(t, 10 working days)",
        best_rate(lambda: ours_work_time(cal, inp.instants), r.n_inputs, r.rep),
        best_rate(lambda: numpy_work_time(bdc, cal, inp.instants), r.n_inputs, r.rep),
        best_rate(lambda: holidays_work_time(hol, cal, sub.instants), r.n_hol, 1),
    )


def batch_rows(r: Run) -> list[BatchRow]:
    """The batch forms against numpy's vectorised calls."""
    cal, bdc, inp = r.cal, r.bdc, r.inp
    rows: list[BatchRow] = []
    for n in (10, 1000):
        ours_arr = batch.add_workdays(cal, inp.d64_array, n)
        np_arr = np.busday_offset(inp.d64_array, n, roll="backward", busdaycal=bdc)
        assert (ours_arr == np_arr).all(), f"batch add {n}"
        rows.append(
            (
                f"batch add_workdays(d[], {n})",
                best_rate(partial(batch.add_workdays, cal, inp.d64_array, n), r.n_inputs, r.rep),
                best_rate(
                    partial(np.busday_offset, inp.d64_array, n, roll="backward", busdaycal=bdc),
                    r.n_inputs,
                    r.rep,
                ),
            )
        )
    ours_cnt = batch.workdays_between(cal, inp.d64_array, inp.o64_array)
    assert ours_cnt.tolist() == ours_between(cal, inp.dates, inp.others), "batch between"
    rows.append(
        (
            "batch workdays_between(a[], b[])",
            best_rate(
                lambda: batch.workdays_between(cal, inp.d64_array, inp.o64_array),
                r.n_inputs,
                r.rep,
            ),
            best_rate(
                lambda: np.busday_count(inp.d64_array, inp.o64_array, busdaycal=bdc),
                r.n_inputs,
                r.rep,
            ),
        )
    )
    return rows


def print_scalar_table(r: Run, rows: list[ScalarRow]) -> bool:
    """The one-at-a-time table and the distance line; whether their targets are met."""
    print(
        f"calendars benchmark: {r.n_inputs:,} random inputs per operation "
        f"(holidays: {r.n_hol:,}), CN calendar {r.cal.version}, best of {r.rep}\n"
    )
    head = (
        f"{'operation':<38} {'ours ops/s':>12} {'numpy ops/s':>12} {'holidays':>10} "
        f"{'vs numpy':>9} {'vs holidays':>12}"
    )
    print(head)
    print("-" * len(head))
    ok = True
    for name, ours_r, np_r, hol_r in rows:
        r_np, r_hol = ours_r / np_r, ours_r / hol_r
        ok = ok and r_np >= 2 and r_hol >= 20
        print(
            f"{name:<38} {ours_r:>12,.0f} {np_r:>12,.0f} {hol_r:>10,.0f} "
            f"{r_np:>8.1f}x {r_hol:>11.0f}x"
        )
    distance = rows[0][1] / rows[1][1]  # time per add 1000 / time per add 10
    print(
        f"\ndistance: time of add_workdays(d, 1000) / time of add_workdays(d, 10) = "
        f"{distance:.2f} (target: at most 1.5)"
    )
    return ok and max(distance, 1 / distance) <= 1.5


def print_batch_table(rows: list[BatchRow]) -> bool:
    """The batch table; whether its target is met."""
    print(
        f"\n{'batch (numpy arrays)':<38} {'ours ops/s':>12} {'numpy ops/s':>12} {'ours/numpy':>11}"
    )
    ok = True
    for name, ours_r, np_r in rows:
        slowdown = np_r / ours_r
        ok = ok and slowdown <= 2
        print(f"{name:<38} {ours_r:>12,.0f} {np_r:>12,.0f} {ours_r / np_r:>10.2f}x")
    return ok


def main(argv: list[str] | None = None) -> int:
    run = parse_run(argv)
    rows = [*add_rows(run), between_row(run), work_time_row(run)]
    batched = batch_rows(run)
    scalar_ok = print_scalar_table(run, rows)
    batch_ok = print_batch_table(batched)
    print(
        "\ntargets: scalar >= 2x numpy one-at-a-time and >= 20x holidays; add 1000 within 1.5x"
        " of add 10; batch at most 2x slower than numpy vectorised"
    )
    print("all targets met" if scalar_ok and batch_ok else "SOME TARGETS MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
