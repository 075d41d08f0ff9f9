"""SLA engine benchmark: `python bench/engine_bench.py [--quick]`.

Measures, on one core:
1. evaluations per second of a full 10 kV application with 12 events (target ≥ 2,000/s);
2. wall time for 10,000 applications of mixed types (target < 5 s);
3. memory per evaluated application (tracemalloc: retained bytes of the results / count).

Ratios are printed against a baseline measured in the same run: the bare calendar arithmetic
the evaluation needs (one `add_work_time` per threshold of every started monitor), so the
numbers say how much the engine adds on top of the calendar on this machine.

Every evaluation is given one `RuleIndex` of the policy, as a workflow's book gives its own;
the full application is also measured without one (each call selects its rules afresh, as a
deadline preview does).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calendars import Calendar, get_calendar
from policies.engine import Evaluation, EvaluationMemo, Event, RuleIndex, evaluate
from policies.loader import load_policy
from policies.profile import ApplicationProfile, GridWorks
from policies.schema import ResolvedPolicy

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 16, 9, 0, tzinfo=CST)


def full_10kv() -> tuple[ApplicationProfile, list[Event], datetime]:
    app = ApplicationProfile(
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        capacity_kva=630,
        dual_power=True,
        important=True,
        grid_works=GridWorks(type="overhead_line", voltage="10kV"),
        accepted_at=T0,
    )
    names = [
        "joint_survey.started",
        "joint_survey.completed",
        "plan_reply.completed",
        "grid_works.started",
        "design_review.started",
        "design_review.completed",
        "mid_inspection.started",
        "mid_inspection.completed",
        "grid_works.completed",
        "completion_inspection.started",
        "completion_inspection.completed",
        "contract.completed",
    ]
    events = [Event(event=n, at=T0 + timedelta(days=2 * i + 1)) for i, n in enumerate(names)]
    return app, events, T0 + timedelta(days=25)


def mixed(n: int, seed: int = 7) -> list[tuple[ApplicationProfile, list[Event], datetime]]:
    rng = random.Random(seed)
    kinds = [
        ("hv", "10kV"),
        ("hv", "35kV"),
        ("hv", "110kV"),
        ("lv_residential", "220V"),
        ("lv_non_residential", "380V"),
        ("lv_small_micro", "380V"),
        ("dg_lv", "380V"),
        ("dg_hv", "10kV"),
        ("meter_relocation", "380V"),
        ("capacity_reduction", "10kV"),
        ("rename_residential", "220V"),
        ("tariff_basis_change", "10kV"),
    ]
    out = []
    for _ in range(n):
        bt, voltage = rng.choice(kinds)
        accepted = T0 + timedelta(hours=rng.randrange(0, 24 * 60))
        grid = None
        if bt == "hv" and rng.random() < 0.4:
            grid = GridWorks(type=rng.choice(["t_connection", "overhead_line", "substation_bay"]))
        app = ApplicationProfile(
            unit="henan/sanmenxia",
            business_type=bt,
            voltage=voltage,
            capacity_kva=rng.choice([50, 160, 630, 2000]),
            dual_power=rng.random() < 0.2,
            important=rng.random() < 0.1,
            grid_works=grid,
            channel=rng.choice(["counter", "online", "phone"]),
            accepted_at=accepted,
            dg_variant="pv_single_point",
        )
        events = [Event(event="plan_reply.completed", at=accepted + timedelta(days=3))]
        if rng.random() < 0.5:
            events.append(Event(event="joint_survey.started", at=accepted + timedelta(hours=5)))
        out.append((app, events, accepted + timedelta(days=rng.randrange(1, 20))))
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def baseline_ops(result: Evaluation) -> list[tuple[datetime, timedelta]]:
    """The calendar calls an evaluation needs at minimum: one per threshold of started monitors."""
    ops = []
    for m in result.monitors:
        if m.started_at is None:
            continue
        for t in m.thresholds:
            ops.append((m.started_at, t.after.to_timedelta()))
    return ops


Case = tuple[ApplicationProfile, list[Event], datetime]


def measure_full(
    policy: ResolvedPolicy, cal: Calendar, rules: RuleIndex, case: Case, loops: int
) -> None:
    """The full application evaluated over and over, with and without a rule index, beside the
    bare calendar arithmetic it needs."""
    app, events, as_of = case
    first = evaluate(policy, cal, app, events, as_of, index=rules)
    started = sum(1 for m in first.monitors if m.started_at is not None)
    print(f"policy {policy.unit} {policy.version}, calendar {cal.version}")
    print(
        f"full 10 kV application: {len(events)} events, {len(first.monitors)} monitors "
        f"({started} started)"
    )

    def run_full() -> None:
        for _ in range(loops):
            evaluate(policy, cal, app, events, as_of, index=rules)

    def run_unindexed() -> None:
        for _ in range(loops):
            evaluate(policy, cal, app, events, as_of)

    ops = baseline_ops(first)

    def run_baseline() -> None:
        for _ in range(loops):
            for t, d in ops:
                cal.add_work_time(t, d)

    full_s = timed(run_full, 3)
    unindexed_s = timed(run_unindexed, 3)
    base_s = timed(run_baseline, 3)
    rate = loops / full_s
    print(
        f"  engine:   {rate:10,.0f} evaluations/s  ({full_s / loops * 1e6:8.1f} µs each)"
        f"  target ≥ 2,000/s: {'ok' if rate >= 2000 else 'MISSED'}"
    )
    print(
        f"  baseline: {loops / base_s:10,.0f} bare calendar passes/s ({len(ops)} add_work_time "
        f"calls each); engine/baseline time ratio {full_s / base_s:.2f}"
    )
    print(
        f"  without a rule index: {unindexed_s / loops * 1e6:8.1f} µs each "
        f"({unindexed_s / full_s:.2f}x the indexed time)"
    )


def measure_lifecycle(
    policy: ResolvedPolicy, cal: Calendar, rules: RuleIndex, case: Case, loops: int
) -> None:
    """As the workflow does: the application evaluated again at every event, keeping a memo."""
    app, events, _ = case
    steps = [
        (events[:i], events[i - 1].at if i else app.accepted_at) for i in range(len(events) + 1)
    ]

    def run_lifecycle(memo: bool) -> Callable[[], None]:
        def run() -> None:
            for _ in range(loops // 10):
                kept = EvaluationMemo() if memo else None
                for known, at in steps:
                    evaluate(policy, cal, app, known, at, kept, rules)

        return run

    fresh_s = timed(run_lifecycle(False), 3)
    memo_s = timed(run_lifecycle(True), 3)
    per = loops // 10 * len(steps)
    print(
        f"  event by event ({len(steps)} evaluations per lifecycle): "
        f"{fresh_s / per * 1e6:.0f} µs fresh, {memo_s / per * 1e6:.0f} µs with a memo "
        f"({fresh_s / memo_s:.2f}x)"
    )


def measure_mixed(
    policy: ResolvedPolicy, cal: Calendar, rules: RuleIndex, apps: list[Case], repeat: int
) -> None:
    def run_mixed() -> None:
        for a, ev, t in apps:
            evaluate(policy, cal, a, ev, t, index=rules)

    n_mixed = len(apps)
    mixed_s = timed(run_mixed, repeat)
    target = 5.0 * n_mixed / 10_000
    print(
        f"{n_mixed:,} mixed applications: {mixed_s:.2f} s ({n_mixed / mixed_s:,.0f}/s)"
        f"  target < {target:.1f} s: {'ok' if mixed_s < target else 'MISSED'}"
    )


def measure_memory(
    policy: ResolvedPolicy, cal: Calendar, rules: RuleIndex, apps: list[Case]
) -> None:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [evaluate(policy, cal, a, ev, t, index=rules) for a, ev, t in apps[:1000]]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    retained = sum(s.size_diff for s in after.compare_to(before, "filename"))
    print(
        f"memory: {retained / len(kept) / 1024:.1f} KiB retained per evaluated application "
        f"(result objects of {len(kept)} applications)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (CI smoke run)")
    args = parser.parse_args()
    loops = 200 if args.quick else 2000
    n_mixed = 1000 if args.quick else 10_000

    policy: ResolvedPolicy = load_policy("henan/sanmenxia")
    cal = get_calendar("CN")
    rules = RuleIndex(policy)
    case = full_10kv()
    measure_full(policy, cal, rules, case, loops)
    measure_lifecycle(policy, cal, rules, case, loops)
    apps = mixed(n_mixed)
    measure_mixed(policy, cal, rules, apps, 1 if not args.quick else 2)
    measure_memory(policy, cal, rules, apps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
