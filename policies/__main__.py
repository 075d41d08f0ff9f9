"""Command line: `python -m policies check` and `python -m policies show <unit> <type> ...`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime

from policies.engine import effective_rules
from policies.loader import PolicyError, check_all, load_policy
from policies.profile import ApplicationProfile, GridWorks
from policies.schema import Duration, EventSpec


def _d(value: Duration | None) -> str:
    return "—" if value is None else f"{value.amount} {value.unit}"


def _spec(spec: EventSpec) -> str:
    if spec.event is not None:
        text = spec.event
    elif spec.latest_of is not None:
        text = "latest of {" + ", ".join(spec.latest_of) + "}"
    else:
        text = "earliest of {" + ", ".join(spec.earliest_of or []) + "}"
    if spec.occurrence:
        text += f" ({spec.occurrence})"
    if spec.truncate == "day":
        text += " at 00:00 of its day"
    return text


def cmd_check() -> int:
    try:
        policies = check_all()
    except PolicyError as exc:
        print(f"invalid pack:\n{exc}", file=sys.stderr)
        return 1
    for unit, policy in policies.items():
        print(
            f"ok  {unit:28s} version {policy.version}  chain {' → '.join(policy.chain)}  "
            f"{len(policy.monitors)} monitors, {len(policy.too_short)} too-short rows, "
            f"{len(policy.inconsistencies)} inconsistencies"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.unit)
    except PolicyError as exc:
        print(f"invalid pack:\n{exc}", file=sys.stderr)
        return 1
    accepted = datetime.fromisoformat(args.accepted_at)
    if accepted.tzinfo is None:
        print("--accepted-at needs a time zone offset", file=sys.stderr)
        return 2
    grid = (
        GridWorks(type=args.grid_works, voltage=args.grid_works_voltage)
        if args.grid_works
        else None
    )
    app = ApplicationProfile(
        unit=policy.unit,
        business_type=args.business_type,
        voltage=args.voltage,
        capacity_kva=args.capacity_kva,
        capacity_kw=args.capacity_kw,
        dual_power=args.dual_power,
        important=args.important,
        small_micro=args.small_micro,
        area=args.area,
        grid_works=grid,
        channel=args.channel,
        accepted_at=accepted,
        dg_variant=args.dg_variant,
        meter_change=args.meter_change,
        outside_line_m=args.outside_line_m,
        flags=tuple(args.flag or ()),
    )
    rules = effective_rules(policy, app)
    print(f"{policy.unit} (version {policy.version}, chain {' → '.join(policy.chain)})")
    print(f"business types matched: {', '.join(rules.business_types)}")
    print(f"skipped stages: {', '.join(rules.skipped_stages) or '—'}")
    print()
    for r in rules.monitors:
        print(f"[{r.id}] {r.code} — {r.label or ''}")
        print(f"    start {_spec(r.start)}; stop {_spec(r.stop)}")
        for p in r.pauses:
            print(f"    excludes {p}")
        print(
            f"    provincial {_d(r.provincial)}, national {_d(r.national)}; "
            f"blue lead {_d(r.blue_lead)}, orange lead {_d(r.orange_lead)}; "
            f"levels {', '.join(r.levels) or '—'}; result {r.result or '—'}"
        )
        if r.check_times:
            print(f"    warnings at {', '.join(r.check_times)} daily")
        for s in r.sources:
            print(f"    source: {s}")
        for f in r.flags:
            print(f"    inconsistency: {f}")
    if rules.too_short:
        print()
        print("too-short (超短时限):")
    for t in rules.too_short:
        bound = t.provincial or t.national
        op = "≤" if t.inclusive else "<"
        src = t.sources[-1] if t.sources else t.source
        print(f"[{t.id}] {t.code}: {op} {_d(bound)} → {t.result}")
        if src is not None:
            print(f"    source: {src.cite()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="load and validate every pack")
    show = sub.add_parser("show", help="the effective rules for a unit and business type")
    show.add_argument("unit")
    show.add_argument("business_type")
    show.add_argument("--voltage")
    show.add_argument("--capacity-kva", type=float)
    show.add_argument("--capacity-kw", type=float)
    show.add_argument("--dual-power", action="store_true")
    show.add_argument("--important", action="store_true")
    show.add_argument("--small-micro", action="store_true")
    show.add_argument("--area", choices=["urban", "rural"])
    show.add_argument("--grid-works", help="supporting-works type, e.g. overhead_line")
    show.add_argument("--grid-works-voltage")
    show.add_argument("--channel", default="counter")
    show.add_argument("--accepted-at", default="2026-01-05T09:00:00+08:00")
    show.add_argument("--dg-variant")
    show.add_argument("--meter-change", action="store_true", default=None)
    show.add_argument("--outside-line-m", type=float)
    show.add_argument("--flag", action="append")
    args = parser.parse_args(argv)
    if args.command == "check":
        return cmd_check()
    return cmd_show(args)


if __name__ == "__main__":
    raise SystemExit(main())
