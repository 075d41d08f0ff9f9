"""Load policy packs from TOML, merge a unit's chain and validate the result.

All file I/O of the policies package lives here (the schema and the engine stay pure); merging
is `policies.merging`, the checks are `policies.validation`. Errors name the file, the field
path and the reason: `PolicyError`.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from policies.errors import PolicyError
from policies.merging import MergedChain
from policies.notice_table import NoticeTableError, check_notice_table
from policies.plans.rules import PlanRulesError, check_plan_tables
from policies.report_tables import ReportTableError, check_report_tables
from policies.schema import PackFile, ResolvedPolicy
from policies.validation import resolve_settings, validate_policy

__all__ = [
    "PACKS_DIR",
    "ROOT_UNIT",
    "PolicyError",
    "check_all",
    "clear_cache",
    "default_parent",
    "list_units",
    "load_policy",
    "policy_from_json",
    "read_pack",
    "unit_file",
    "validate_policy",
]

PACKS_DIR = Path(__file__).parent / "packs"
ROOT_UNIT = "national"


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(PACKS_DIR.parent.parent))
    except ValueError:
        return str(path)


def unit_file(unit: str, root: Path = PACKS_DIR) -> Path:
    return root / f"{unit}.toml"


def list_units(root: Path = PACKS_DIR) -> list[str]:
    """Every unit with a pack file, sorted (`national`, `henan`, `henan/sanmenxia`, ...)."""
    units = [
        str(p.relative_to(root).with_suffix("")).replace("\\", "/") for p in root.rglob("*.toml")
    ]
    return sorted(units)


def default_parent(unit: str) -> str | None:
    if unit == ROOT_UNIT:
        return None
    if "/" in unit:
        return unit.rsplit("/", 1)[0]
    return ROOT_UNIT


def _format_loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_pack(path: Path) -> tuple[PackFile, bytes]:
    """Parse and validate one pack file (no inheritance)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{_rel(path)}: no such pack file") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{_rel(path)}: not valid TOML: {exc}") from None
    try:
        pack = PackFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = _format_loc(err["loc"])
            loc = _with_ids(data, err["loc"], loc)
            lines.append(f"{_rel(path)}: {loc}: {err['msg']}")
        raise PolicyError("\n".join(lines)) from None
    return pack, raw


def _with_ids(data: Any, loc: Sequence[int | str], text: str) -> str:
    """Add the rule id to a location inside a list of rules, so the message is findable."""
    node = data
    ids: list[str] = []
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str) and isinstance(part, int):
            ids.append(node["id"])
    return f"{text} (id {' / '.join(repr(i) for i in ids)})" if ids else text


def _chain(unit: str, root: Path) -> list[tuple[str, Path, PackFile, bytes]]:
    """The unit and its ancestors, root first; refuses cycles and header/path mismatches."""
    seen: list[str] = []
    out: list[tuple[str, Path, PackFile, bytes]] = []
    current: str | None = unit
    while current is not None:
        if current in seen:
            cycle = " -> ".join([*seen, current])
            raise PolicyError(f"{_rel(unit_file(seen[0], root))}: pack.parent: unit cycle {cycle}")
        seen.append(current)
        path = unit_file(current, root)
        pack, raw = read_pack(path)
        if pack.pack.unit != current:
            raise PolicyError(
                f"{_rel(path)}: pack.unit: says {pack.pack.unit!r} but the file is the pack of "
                f"{current!r}"
            )
        out.append((current, path, pack, raw))
        current = pack.pack.parent if pack.pack.parent is not None else default_parent(current)
        if current == "":
            current = None
    out.reverse()
    return out


def _resolve(unit: str, root: Path) -> ResolvedPolicy:
    chain = _chain(unit, root)
    digest = hashlib.sha256()
    merged = MergedChain()
    files: dict[str, str] = {}
    for name, path, pack, raw in chain:
        rel = _rel(path)
        files[name] = rel
        digest.update(name.encode() + b"\0" + raw + b"\0")
        merged.add(rel, pack)
    policy = ResolvedPolicy(
        unit=unit,
        chain=[c[0] for c in chain],
        version=digest.hexdigest()[:16],
        settings=resolve_settings(files[unit], merged.settings),
        warning_rules=merged.warning_rules,
        recipient_profiles=merged.recipient_profiles,
        event_aliases=merged.event_aliases,
        business_type_rules=merged.business_type_rules,
        stages=merged.stages,
        monitors=merged.monitors,
        too_short=merged.too_short,
        params=merged.params,
        inconsistencies=sorted(merged.inconsistencies.values(), key=lambda i: i.id),
        codes=merged.codes,
        documents=merged.documents,
        application_flags=merged.application_flags,
    )
    validate_policy(policy, files, merged.touched)
    try:
        check_plan_tables(policy)
        check_report_tables(policy)
        check_notice_table(policy)
    except (PlanRulesError, ReportTableError, NoticeTableError) as exc:
        raise PolicyError(f"{files[unit]}: {exc}") from None
    return policy


_CACHE: dict[tuple[str, str], tuple[ResolvedPolicy, tuple[tuple[str, int, int], ...]]] = {}


def _stamp(policy: ResolvedPolicy, root: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for unit in policy.chain:
        st = unit_file(unit, root).stat()
        out.append((unit, st.st_mtime_ns, st.st_size))
    return tuple(out)


def load_policy(unit: str, root: Path | None = None) -> ResolvedPolicy:
    """The resolved policy of `unit` (its chain merged root-first), validated.

    Cached, but a pack file changed on disk is read again (its version changes with it).
    Raises `PolicyError` naming the file, field path and reason if any pack in the chain is bad.
    """
    base = root or PACKS_DIR
    key = (unit, str(base))
    hit = _CACHE.get(key)
    if hit is not None:
        try:
            if _stamp(hit[0], base) == hit[1]:
                return hit[0]
        except OSError:
            pass
    policy = _resolve(unit, base)
    _CACHE[key] = (policy, _stamp(policy, base))
    return policy


def clear_cache() -> None:
    _CACHE.clear()


def check_all(root: Path | None = None) -> dict[str, ResolvedPolicy]:
    """Load and validate every pack; raises on the first bad one."""
    base = root or PACKS_DIR
    return {unit: _resolve(unit, base) for unit in list_units(base)}


def policy_from_json(data: str | bytes | dict[str, Any]) -> ResolvedPolicy:
    """Rebuild a ResolvedPolicy from its JSON snapshot (workflow start input)."""
    if isinstance(data, dict):
        return ResolvedPolicy.model_validate(data)
    return ResolvedPolicy.model_validate_json(data)
