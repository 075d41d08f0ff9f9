"""References between grid resources, checked before anything is written.

A feeder leaves a substation, a transformer hangs on a feeder, a connection point on a feeder
(at the feeder's voltage) or on a transformer, a customer on a feeder (and on one of its
transformers). The database's foreign keys would refuse a dangling id too, but only as an
integrity error at commit; these checks name the field and the reason, per CSV line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from sqlmodel import Session, col, func, select

from contracts.errors import FieldError
from readmodel.grid import (
    ConnectionPointCreate,
    ConnectionPointRow,
    FeederCreate,
    FeederRow,
    GridCustomerCreate,
    SubstationCreate,
    SubstationRow,
    TransformerCreate,
    TransformerRow,
)
from readmodel.organisation import UnitRow


class FeederRef(NamedTuple):
    voltage: str
    unit: str


class GridRefs:
    """Lookups of the ids a row refers to. One row at a time reads by primary key; a CSV
    import calls `preload()` first and answers from memory."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._units: set[str] | None = None
        self._substations: set[str] | None = None
        self._feeders: dict[str, FeederRef] | None = None
        self._transformers: dict[str, str] | None = None

    def preload(self) -> GridRefs:
        s = self.session
        self._units = set(s.exec(select(UnitRow.code)).all())
        self._substations = set(s.exec(select(SubstationRow.id)).all())
        self._feeders = {
            fid: FeederRef(v, u)
            for fid, v, u in s.exec(select(FeederRow.id, FeederRow.voltage, FeederRow.unit)).all()
        }
        self._transformers = dict(s.exec(select(TransformerRow.id, TransformerRow.feeder)).all())
        return self

    def unit(self, code: str) -> bool:
        if self._units is not None:
            return code in self._units
        return self.session.get(UnitRow, code) is not None

    def substation(self, sid: str) -> bool:
        if self._substations is not None:
            return sid in self._substations
        return self.session.get(SubstationRow, sid) is not None

    def feeder(self, fid: str) -> FeederRef | None:
        if self._feeders is not None:
            return self._feeders.get(fid)
        row = self.session.get(FeederRow, fid)
        return None if row is None else FeederRef(row.voltage, row.unit)

    def transformer_feeder(self, tid: str) -> str | None:
        """The feeder the transformer hangs on, or None when there is no such transformer."""
        if self._transformers is not None:
            return self._transformers.get(tid)
        row = self.session.get(TransformerRow, tid)
        return None if row is None else row.feeder


def _unit(refs: GridRefs, code: str) -> list[FieldError]:
    if refs.unit(code):
        return []
    return [FieldError(field="unit", reason="no such unit: create it first (/api/units)")]


def check_substation(refs: GridRefs, item: SubstationCreate) -> list[FieldError]:
    return _unit(refs, item.unit)


def check_feeder(refs: GridRefs, item: FeederCreate) -> list[FieldError]:
    errors = _unit(refs, item.unit)
    if not refs.substation(item.substation):
        errors.append(FieldError(field="substation", reason="no such substation"))
    return errors


def check_transformer(refs: GridRefs, item: TransformerCreate) -> list[FieldError]:
    errors = _unit(refs, item.unit)
    if refs.feeder(item.feeder) is None:
        errors.append(FieldError(field="feeder", reason="no such feeder"))
    return errors


def check_point(refs: GridRefs, item: ConnectionPointCreate) -> list[FieldError]:
    errors = _unit(refs, item.unit)
    if item.feeder is not None:
        feeder = refs.feeder(item.feeder)
        if feeder is None:
            errors.append(FieldError(field="feeder", reason="no such feeder"))
        elif feeder.voltage != item.voltage:
            errors.append(FieldError(field="voltage", reason=f"the feeder is at {feeder.voltage}"))
    if item.transformer is not None and refs.transformer_feeder(item.transformer) is None:
        errors.append(FieldError(field="transformer", reason="no such transformer"))
    return errors


def check_customer(refs: GridRefs, item: GridCustomerCreate) -> list[FieldError]:
    errors = []
    if refs.feeder(item.feeder) is None:
        errors.append(FieldError(field="feeder", reason="no such feeder"))
    if item.transformer is not None:
        on = refs.transformer_feeder(item.transformer)
        if on is None:
            errors.append(FieldError(field="transformer", reason="no such transformer"))
        elif on != item.feeder:
            errors.append(
                FieldError(field="transformer", reason="hangs on another feeder than the one given")
            )
    return errors


def check_feeder_change(session: Session, row: Any, item: Any) -> list[FieldError]:
    """A feeder's voltage may change only while no connection point hangs on it at the old
    one (the points would be left at a voltage their feeder no longer has)."""
    if not isinstance(row, FeederRow) or row.voltage == item.voltage:
        return []
    count = session.exec(
        select(func.count())
        .select_from(ConnectionPointRow)
        .where(col(ConnectionPointRow.feeder) == row.id)
    ).one()
    if not count:
        return []
    return [
        FieldError(
            field="voltage",
            reason=f"{count} connection point(s) hang on this feeder at {row.voltage}: "
            "change or move them first",
        )
    ]


#: What each kind's rows are checked against before a write.
Check = Callable[[GridRefs, Any], list[FieldError]]
