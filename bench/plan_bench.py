"""Plan engine benchmark: `python bench/plan_bench.py [--quick] [--previews N] [--points N]`.

Measures, on one core, against a demo grid of 20,000 connection points:
1. plans per second over 10,000 previews of mixed applications (target ≥ 1,000/s), the
   connection points found through the spatial index (shapely STRtree);
2. the same previews with a brute-force scan instead of the index (every point's distance,
   vectorised with numpy, then a full sort), on a subset, and the ratio;
3. the connection-point search alone, index against scan (target: the index ≥ 20× faster),
   each answering "the nearest points in order until one is feasible".
Index and scan must choose the same points; the run checks it on the subset.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.loader import load_policy
from policies.plans.demo_grid import demo_grid
from policies.plans.engine import plan
from policies.plans.plan import Plan
from policies.plans.request import PlanRequest
from policies.plans.resources import GridSnapshot, Location
from policies.plans.rules import plan_rules
from policies.plans.spatial import PointFinder, PointIndex, Scan

UNIT = "henan/sanmenxia"
CST = timezone(timedelta(hours=8))
ACCEPTED = datetime(2026, 11, 16, 9, 0, tzinfo=CST)


def requests(n: int, grid: GridSnapshot, seed: int = 7) -> list[PlanRequest]:
    """Mixed applications near the grid: 30 % low-voltage non-residential, 15 % residential,
    15 % small and micro, 35 % 10 kV (a tenth dual-supply), 5 % 35 kV."""
    rng = random.Random(seed)
    lv = [p for p in grid.points if p.voltage == "380V"]
    hv = [p for p in grid.points if p.voltage != "380V"]
    out: list[PlanRequest] = []
    for _ in range(n):
        roll = rng.random()
        # Customers are where the grid of their voltage is: near such a point, up to a few
        # hundred metres off.
        near = rng.choice(lv if roll < 0.60 else hv).location
        where = Location(lon=near.lon + rng.gauss(0, 0.002), lat=near.lat + rng.gauss(0, 0.0015))
        fields: dict[str, Any]
        if roll < 0.30:
            fields = {"business_type": "lv_non_residential", "capacity_kw": rng.uniform(5, 90)}
        elif roll < 0.45:
            fields = {"business_type": "lv_residential", "capacity_kw": rng.uniform(3, 20)}
        elif roll < 0.60:
            fields = {
                "business_type": "lv_small_micro",
                "small_micro": True,
                "capacity_kw": rng.uniform(20, 160),
            }
        elif roll < 0.95:
            fields = {
                "business_type": "hv",
                "voltage": "10kV",
                "capacity_kva": rng.choice((250, 400, 630, 1250, 2500, 5000)),
                "dual_power": rng.random() < 0.1,
            }
        else:
            fields = {"business_type": "hv", "voltage": "35kV", "capacity_kva": 20000}
        out.append(
            PlanRequest(
                unit=UNIT,
                accepted_at=ACCEPTED,
                location=where,
                area=rng.choice(("urban", "rural")),
                **fields,
            )
        )
    return out


def timed(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_plans(
    reqs: list[PlanRequest], grid: GridSnapshot, finder: PointFinder
) -> tuple[float, list[Plan]]:
    policy = load_policy(UNIT)
    rules = plan_rules(policy)
    out: list[Plan] = []

    def go() -> None:
        out.extend(plan(r, grid, policy, finder=finder, rules=rules) for r in reqs)

    return timed(go), out


def first_feasible_search(reqs: list[PlanRequest], finder: PointFinder) -> float:
    """The search alone: points nearest first until one at 10 kV that is not restricted."""
    routing = plan_rules(load_policy(UNIT)).routing
    reach = routing.max_route_m["10kV"] / routing.route_factor

    def go() -> None:
        for r in reqs:
            assert r.location is not None
            found = finder.nearest(
                r.location.lon, r.location.lat, routing.search_start_m, reach, "10kV"
            )
            for _, point in found:
                if not point.restricted:
                    break

    return timed(go)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--previews", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--scan-subset", type=int, default=1_000)
    args = parser.parse_args()
    if args.quick:
        args.previews, args.points, args.scan_subset = 300, 2_000, 100

    t0 = time.perf_counter()
    grid = demo_grid(UNIT, points=args.points)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = PointIndex(grid.points)
    for voltage in {p.voltage for p in grid.points}:
        index.subset(voltage)  # the trees are built on first use: build them all here
    indexed = time.perf_counter() - t0
    scan = Scan(grid.points)
    reqs = requests(args.previews, grid)
    print(
        f"grid: {len(grid.points)} connection points, {len(grid.feeders)} feeders, "
        f"{len(grid.transformers)} transformers (built in {built:.2f} s; "
        f"index {indexed * 1000:.0f} ms)"
    )

    run_plans(reqs[:50], grid, index)  # warm-up: pack rules parsed, code paths loaded
    elapsed, plans = run_plans(reqs, grid, index)
    rate = len(plans) / elapsed
    joint = sum(p.needs_joint_review for p in plans)
    why = ", ".join(
        f"{code} {count}"
        for code, count in Counter(r.code for p in plans for r in p.reasons).most_common()
    )
    print(f"plans with the index: {len(plans)} in {elapsed:.2f} s = {rate:,.0f} plans/s")
    print(f"  (target >= 1,000/s); {joint} need joint review ({why})")

    subset = reqs[: args.scan_subset]
    idx_elapsed, idx_plans = run_plans(subset, grid, index)
    scan_elapsed, scan_plans = run_plans(subset, grid, scan)
    pairs = zip(idx_plans, scan_plans, strict=True)
    same = sum(a.power_sources == b.power_sources for a, b in pairs)
    n = len(subset)
    print(
        f"plans with a brute-force scan: {n} in {scan_elapsed:.2f} s = "
        f"{n / scan_elapsed:,.0f} plans/s; with the index {n / idx_elapsed:,.0f} plans/s: "
        f"{scan_elapsed / idx_elapsed:.1f}x"
    )
    print(f"  same points chosen in {same}/{n}")

    idx_search = first_feasible_search(subset, index) / n * 1e6
    scan_search = first_feasible_search(subset, scan) / n * 1e6
    print(
        f"search alone (nearest feasible 10 kV point): index {idx_search:.1f} us, "
        f"scan {scan_search:.1f} us per query"
    )
    print(f"  index {scan_search / idx_search:.1f}x faster (target >= 20x)")
    if same != len(subset):
        sys.exit("index and scan chose different points")


if __name__ == "__main__":
    main()
