"""The kinds of grid resource the API serves, each with its model family, CSV columns and
checks, and the paged listing they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import Session, SQLModel, col, func, or_, select

from api.grid_refs import (
    Check,
    check_customer,
    check_feeder,
    check_feeder_change,
    check_point,
    check_substation,
    check_transformer,
)
from contracts.errors import FieldError
from policies.codes import UNIT_CODE_RE
from readmodel import grid as g

T = TypeVar("T", bound=BaseModel)

#: The `unit` filter of the grid's lists.
UnitQ = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=128,
        pattern=UNIT_CODE_RE.pattern,
        description="This unit and the units under it",
    ),
]
#: A filter by a resource's id (`feeder`, `transformer`, ...).
IdQ = Annotated[str | None, Query(max_length=64, pattern=g.RESOURCE_ID_RE.pattern)]


class Page(BaseModel, Generic[T]):
    """One page of a list, by id, with the count of all that match the filters."""

    items: list[T]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Kind:
    """One kind of grid resource: its model family, its CSV columns and its checks."""

    path: str
    label: str
    row: type[SQLModel]
    create: type[SQLModel]
    update: type[BaseModel]
    public: type[SQLModel]
    columns: tuple[str, ...]
    required: tuple[str, ...]
    check: Check
    #: Checks that only an update needs (what the row's dependants rely on).
    on_change: Callable[[Session, Any, Any], list[FieldError]] | None = None


KINDS = (
    Kind(
        "substations", "substation", g.SubstationRow, g.SubstationCreate,
        g.SubstationUpdate, g.SubstationPublic,
        ("id", "name", "unit", "voltage", "lon", "lat"),
        ("id", "name", "unit", "voltage", "lon", "lat"),
        check_substation,
    ),
    Kind(
        "feeders", "feeder", g.FeederRow, g.FeederCreate, g.FeederUpdate, g.FeederPublic,
        ("id", "name", "substation", "unit", "voltage", "rated_kva", "used_kva"),
        ("id", "substation", "unit", "voltage", "rated_kva", "used_kva"),
        check_feeder,
        check_feeder_change,
    ),
    Kind(
        "transformers", "transformer", g.TransformerRow, g.TransformerCreate,
        g.TransformerUpdate, g.TransformerPublic,
        ("id", "name", "feeder", "unit", "rated_kva", "load_kva", "lon", "lat"),
        ("id", "feeder", "unit", "rated_kva", "load_kva"),
        check_transformer,
    ),
    Kind(
        "connection-points", "connection point", g.ConnectionPointRow,
        g.ConnectionPointCreate, g.ConnectionPointUpdate, g.ConnectionPointPublic,
        ("id", "kind", "name", "unit", "voltage", "lon", "lat", "feeder", "transformer",
         "restricted", "restricted_reason"),
        ("id", "kind", "unit", "voltage", "lon", "lat"),
        check_point,
    ),
    Kind(
        "customers", "customer", g.GridCustomerRow, g.GridCustomerCreate,
        g.GridCustomerUpdate, g.GridCustomerPublic,
        ("id", "feeder", "transformer", "name", "phone"),
        ("id", "feeder", "name"),
        check_customer,
    ),
)  # fmt: skip
BY_PATH = {k.path: k for k in KINDS}


def unit_under(column: Any, unit: str) -> ColumnElement[bool]:
    """The unit and the units under it (codes are paths: henan/sanmenxia/lingbao)."""
    return or_(col(column) == unit, col(column).startswith(f"{unit}/"))


def page(
    session: Session, kind: Kind, filters: list[Any], offset: int, limit: int, join: Any = None
) -> Page[Any]:
    """One page of the kind's rows, by id, with the count of all that match."""
    base = select(kind.row)
    counted = select(func.count()).select_from(kind.row)
    if join is not None:
        base, counted = base.join(join), counted.join(join)
    total = session.exec(counted.where(*filters)).one()
    order = col(kind.row.id)  # type: ignore[attr-defined]
    rows = session.exec(base.where(*filters).order_by(order).offset(offset).limit(limit)).all()
    items = [kind.public.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=total, offset=offset, limit=limit)
