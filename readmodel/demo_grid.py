"""The demo grid `make run` loads for the demo units (readmodel/demo_org.py): substations,
about 20 feeders, public transformers, about 200 connection points and the customers on them,
around Sanmenxia, Lingbao and Huangchuan.

Invented assets at plausible places, drawn from a seeded random generator, so every load gives
the same grid. Some points are on the restricted list (with their reasons) and some feeders are
nearly full, so plans have something to skip. Invented customers with invented numbers in the
1390000xxxx range. Loading is idempotent: rows whose id already exists are left as they are
(an operator's edits win). The demo organisation must be loaded first (the units).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from readmodel.grid import (
    ConnectionPointRow,
    FeederRow,
    GridCustomerRow,
    SubstationRow,
    TransformerRow,
)

SEED = 20260315
#: Degrees per kilometre, near latitude 34° (close enough for a demo around one city).
LAT_PER_KM = 1 / 111.0


@dataclass(frozen=True)
class Site:
    """A substation of the demo and the feeders it sends out."""

    id: str
    name: str
    unit: str
    voltage: str
    lon: float
    lat: float
    feeders: int
    #: Which of its feeders are nearly full (by index).
    nearly_full: tuple[int, ...] = ()


SITES = (
    Site("SMX-S01", "110kV湖滨变电站", "henan/sanmenxia", "110kV", 111.196, 34.772, 5, (2,)),
    Site("SMX-S02", "110kV会兴变电站", "henan/sanmenxia", "110kV", 111.243, 34.801, 4, (0,)),
    Site("SMX-S03", "35kV高庙变电站", "henan/sanmenxia", "35kV", 111.152, 34.745, 2),
    Site("LB-S01", "110kV灵宝变电站", "henan/sanmenxia/lingbao", "110kV", 110.873, 34.519, 3, (1,)),
    Site(
        "LB-S02", "35kV尹庄变电站", "henan/sanmenxia/lingbao/yinzhuang", "35kV", 110.812, 34.468, 2
    ),
    Site(
        "HC-S01", "110kV潢川变电站", "henan/xinyang/huangchuan", "110kV", 115.051, 32.131, 4, (3,)
    ),
)

RESTRICTED_REASONS = (
    "线路重载，暂停新增接入",
    "规划迁改段（道路拓宽），暂不接入",
    "通道受限：穿越铁路保护区",
    "设备缺陷待消缺",
    "环网柜间隔已满",
)
HV_KINDS = ("pole", "pole", "pole", "ring_main_unit", "branch_box", "switching_station")
LV_KINDS = ("lv_pillar", "meter_box", "meter_box", "pole")
ROADS = ("崤山路", "黄河路", "六峰路", "甘棠路", "大岭路", "会兴路", "函谷路", "春申路", "弦山路")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"


def _offset(rng: random.Random, lon: float, lat: float, km: float) -> tuple[float, float]:
    """A place up to `km` away, in a random direction."""
    angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0.1, 1.0) * km
    dlat = dist * math.sin(angle) * LAT_PER_KM
    dlon = dist * math.cos(angle) * LAT_PER_KM / math.cos(math.radians(lat))
    return round(lon + dlon, 6), round(lat + dlat, 6)


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.rows: list[SQLModel] = []
        self.points = 0
        self.customers = 0

    def site(self, s: Site) -> None:
        self.rows.append(
            SubstationRow(
                id=s.id, name=s.name, unit=s.unit, voltage=s.voltage, lon=s.lon, lat=s.lat
            )
        )
        prefix = s.id.split("-")[0]
        for i in range(s.feeders):
            fid = f"{s.id}-F{i + 1:02d}"
            # Sanmenxia's 110 kV substations send out one 35 kV line each (for the customers a
            # pack connects at 35 kV); every other feeder is 10 kV.
            voltage = "35kV" if s.voltage == "110kV" and i == 0 and prefix == "SMX" else "10kV"
            rated = 20000.0 if voltage == "35kV" else self.rng.choice((6000.0, 8000.0, 10000.0))
            if i in s.nearly_full:
                used = rated * 0.8 - self.rng.choice((80.0, 150.0, 250.0))
            else:
                used = round(rated * self.rng.uniform(0.25, 0.65), -1)
            self.rows.append(
                FeederRow(
                    id=fid, name=f"{s.name[-5:-3]}{i + 1}线", substation=s.id, unit=s.unit,
                    voltage=voltage, rated_kva=rated, used_kva=used,
                )
            )  # fmt: skip
            self.feeder(s, fid, voltage)

    def feeder(self, s: Site, fid: str, voltage: str) -> None:
        """The feeder's points along its route out of the substation, its transformers (10 kV
        only) with their low-voltage points, and its customers."""
        rng = self.rng
        heading = rng.uniform(0, 2 * math.pi)
        lon, lat = s.lon, s.lat
        for j in range(rng.randint(5, 7)):
            step = rng.uniform(0.3, 0.8) * LAT_PER_KM
            heading += rng.uniform(-0.5, 0.5)
            lon += step * math.cos(heading) / math.cos(math.radians(lat))
            lat += step * math.sin(heading)
            self.point(fid, None, s.unit, voltage, round(lon, 6), round(lat, 6), HV_KINDS)
            if voltage == "10kV" and j % 2 == 1:
                self.transformer(s, fid, f"{fid}-T{j // 2 + 1}", lon, lat)
        self.customer(fid, None)

    def transformer(self, s: Site, fid: str, tid: str, lon: float, lat: float) -> None:
        rng = self.rng
        rated = rng.choice((200.0, 315.0, 400.0, 630.0))
        # One transformer in nine is nearly full as well.
        share = 0.78 if rng.random() < 0.11 else rng.uniform(0.3, 0.7)
        tlon, tlat = _offset(rng, lon, lat, 0.2)
        self.rows.append(
            TransformerRow(
                id=tid, name=f"{rng.choice(ROADS)}{tid[-2:]}台区", feeder=fid, unit=s.unit,
                rated_kva=rated, load_kva=round(rated * share), lon=tlon, lat=tlat,
            )
        )  # fmt: skip
        for _ in range(rng.randint(2, 3)):
            plon, plat = _offset(rng, tlon, tlat, 0.3)
            self.point(None, tid, s.unit, "380V", plon, plat, LV_KINDS)
        for _ in range(rng.randint(1, 3)):
            self.customer(fid, tid)

    def point(
        self,
        fid: str | None,
        tid: str | None,
        unit: str,
        voltage: str,
        lon: float,
        lat: float,
        kinds: tuple[str, ...],
    ) -> None:
        rng = self.rng
        self.points += 1
        restricted = rng.random() < 0.08
        self.rows.append(
            ConnectionPointRow(
                id=f"P{self.points:04d}", kind=rng.choice(kinds),
                name=f"{rng.choice(ROADS)}{rng.randint(1, 60)}号", unit=unit, voltage=voltage,
                lon=lon, lat=lat, feeder=fid, transformer=tid, restricted=restricted,
                restricted_reason=rng.choice(RESTRICTED_REASONS) if restricted else None,
            )
        )  # fmt: skip

    def customer(self, fid: str, tid: str | None) -> None:
        rng = self.rng
        self.customers += 1
        n = self.customers
        name = f"{rng.choice(SURNAMES)}某" if tid else f"{rng.choice(ROADS)}示范企业{n}"
        self.rows.append(
            GridCustomerRow(
                id=f"C{n:05d}", feeder=fid, transformer=tid, name=name, phone=f"1390000{n:04d}"
            )
        )


def demo_grid_rows() -> list[SQLModel]:
    """Every row of the demo grid, parents before children (the order foreign keys need)."""
    b = _Builder()
    for s in SITES:
        b.site(s)
    order = (SubstationRow, FeederRow, TransformerRow, ConnectionPointRow, GridCustomerRow)
    return sorted(b.rows, key=lambda r: order.index(type(r)))


def seed_demo_grid(engine: Engine) -> int:
    """Insert the demo grid's rows that are missing; returns how many were added."""
    added = 0
    rows = demo_grid_rows()
    with Session(engine) as session:
        for table in (
            SubstationRow,
            FeederRow,
            TransformerRow,
            ConnectionPointRow,
            GridCustomerRow,
        ):
            have = set(session.exec(select(table.id)).all())
            for row in rows:
                if type(row) is table and row.id not in have:
                    session.add(row)
                    added += 1
            session.flush()
        session.commit()
    return added
