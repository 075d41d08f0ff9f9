"""Sign-in accounts: staff members with a password (readmodel.organisation.StaffRow).

The bootstrap administrator (BOOTSTRAP_ADMIN_USERNAME / _PASSWORD) is created, or has its
password reset, at the API's start; `make run` without them gives a demo administrator and a
few demo staff passwords (launcher.py). Hashes come from core.security; nothing here logs a
password or a hash.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from contracts.organisation import unit_parent
from core.security import hash_password, verify_password
from readmodel.organisation import StaffRow, UnitRow

#: Where a bootstrap administrator is placed when the organisation has no unit yet; a
#: superuser's unit limits nothing.
ROOT_UNIT = ("national", "全国", "province")


def _first_top_unit(session: Session) -> str:
    top = session.exec(
        select(UnitRow.code).where(col(UnitRow.parent).is_(None)).order_by(col(UnitRow.code))
    ).first()
    if top is not None:
        return top
    code, name, level = ROOT_UNIT
    session.add(UnitRow(code=code, name=name, level=level, parent=unit_parent(code)))
    session.flush()
    return code


def ensure_superuser(engine: Engine, code: str, password: str) -> bool:
    """The member `code` exists, is a superuser and signs in with `password`; True when
    anything had to change (created, promoted or its password reset)."""
    with Session(engine) as session:
        row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
        if row is None:
            row = StaffRow(
                code=code,
                name="系统管理员",
                roles=["admin"],
                unit=_first_top_unit(session),
                phone="13800000000",
            )
        elif row.superuser and row.active and verify_password(password, row.password_hash):
            return False
        row.superuser = True
        row.active = True
        row.password_hash = hash_password(password)
        session.add(row)
        session.commit()
        return True


def set_password(engine: Engine, code: str, password: str) -> bool:
    """Sets a member's password; False when there is no such member."""
    with Session(engine) as session:
        row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
        if row is None:
            return False
        row.password_hash = hash_password(password)
        session.add(row)
        session.commit()
        return True


def signing_in(engine: Engine, code: str, password: str) -> StaffRow | None:
    """The active member whose code and password these are, or None (the same time either
    way: core.security.verify_password)."""
    with Session(engine) as session:
        row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
        ok = verify_password(password, row.password_hash if row is not None else None)
        if row is None or not ok or not row.active:
            return None
        session.expunge(row)
        return row


def find_active(engine: Engine, code: str) -> StaffRow | None:
    with Session(engine) as session:
        row = session.exec(
            select(StaffRow).where(StaffRow.code == code, col(StaffRow.active).is_(True))
        ).first()
        if row is not None:
            session.expunge(row)
        return row


#: The sign-ins `make run` gives the demo organisation (readmodel/demo_org.py) when no
#: bootstrap administrator is configured: (code, what they are). `admin` is a superuser and
#: `op-henan` an operator, created here; the others are demo staff members.
DEMO_SIGN_INS: tuple[tuple[str, str], ...] = (
    ("admin", "superuser"),
    ("op-henan", "operator, henan"),
    ("cm-001", "customer_manager, henan/sanmenxia"),
    ("cs-smx", "connection_specialist, henan/sanmenxia"),
    ("md-smx", "marketing_director, henan/sanmenxia"),
    ("co-ops-smx", "coordinator (operations), henan/sanmenxia"),
)
_DEMO_OPERATOR = StaffRow(
    code="op-henan", name="演示运维", roles=["operator"], unit="henan", phone="13800000999"
)


def ensure_demo_sign_ins(engine: Engine, passwords: dict[str, str]) -> list[str]:
    """Give the demo sign-ins these passwords (creating the administrator and the operator);
    returns the codes that can sign in (a demo member an operator deleted is skipped)."""
    ready: list[str] = []
    for code, _ in DEMO_SIGN_INS:
        password = passwords[code]
        if code == "admin":
            ensure_superuser(engine, code, password)
            ready.append(code)
            continue
        with Session(engine) as session:
            row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
            has_unit = session.get(UnitRow, _DEMO_OPERATOR.unit) is not None
            if row is None and code == _DEMO_OPERATOR.code and has_unit:
                row = StaffRow.model_validate(_DEMO_OPERATOR.model_dump(exclude={"id"}))
            if row is None:
                continue
            if not verify_password(password, row.password_hash):
                row.password_hash = hash_password(password)
                session.add(row)
                session.commit()
            ready.append(code)
    return ready
