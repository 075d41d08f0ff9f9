"""Grid resources as the plan engine sees them: plain values, no database.

Capacities are in kVA. `reserved_kva` is what issued plans hold on a feeder or transformer
(first come, first served); the open capacity is the rated capacity times the pack's loading
limit, less what is used and reserved. Coordinates are WGS84 degrees.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PointKind = Literal[
    "pole",  # 杆塔
    "ring_main_unit",  # 环网柜
    "branch_box",  # 分支箱
    "switching_station",  # 开关站
    "substation_bay",  # 变电站间隔
    "lv_pillar",  # 低压电缆分支箱 / 低压出线柱
    "meter_box",  # 表箱
]
POINT_KINDS: tuple[str, ...] = (
    "pole",
    "ring_main_unit",
    "branch_box",
    "switching_station",
    "substation_bay",
    "lv_pillar",
    "meter_box",
)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(_Value):
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class Substation(_Value):
    id: str
    name: str
    unit: str
    voltage: str
    location: Location


class Feeder(_Value):
    """A 10 kV (or 35 kV and above) line out of a substation."""

    id: str
    substation: str
    unit: str
    voltage: str
    rated_kva: float = Field(gt=0, allow_inf_nan=False)
    used_kva: float = Field(ge=0, allow_inf_nan=False)
    reserved_kva: float = Field(default=0, ge=0, allow_inf_nan=False)


class Transformer(_Value):
    """A public distribution transformer (公用配变 / 台区), supplying low voltage."""

    id: str
    feeder: str
    unit: str
    rated_kva: float = Field(gt=0, allow_inf_nan=False)
    load_kva: float = Field(ge=0, allow_inf_nan=False)
    reserved_kva: float = Field(default=0, ge=0, allow_inf_nan=False)


class ConnectionPoint(_Value):
    """Where a customer's line can join the public grid. It hangs on a feeder (high-voltage
    points) or on a transformer (low-voltage points)."""

    id: str
    kind: PointKind
    unit: str
    voltage: str
    location: Location
    feeder: str | None = None
    transformer: str | None = None
    restricted: bool = False
    #: Why the point is on the restricted list (电网受限负面清单), when it is.
    restricted_reason: str | None = None


class GridSnapshot(_Value):
    """The resources near one application, as read at one instant."""

    substations: dict[str, Substation] = Field(default_factory=dict)
    feeders: dict[str, Feeder] = Field(default_factory=dict)
    transformers: dict[str, Transformer] = Field(default_factory=dict)
    points: tuple[ConnectionPoint, ...] = ()
