"""Load policy packs from TOML, merge a unit's chain and validate the result.

All file I/O of the policies package lives here (the schema and the engine stay pure).
Errors name the file, the field path and the reason: `PolicyError`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from policies.codes import BUSINESS_TYPES, EVENT_SUFFIXES, LEVELS
from policies.rules import apply_case, same_clock
from policies.schema import (
    BusinessTypeRule,
    Condition,
    Duration,
    EventSpec,
    Inconsistency,
    MonitorRule,
    PackFile,
    RecipientProfile,
    ResolvedPolicy,
    ResolvedSettings,
    Source,
    StageRule,
    Superseded,
    TooShortRule,
    VariantRule,
    WarningRules,
    _Rule,
    known_event_codes,
    known_monitor_codes,
)

PACKS_DIR = Path(__file__).parent / "packs"
ROOT_UNIT = "national"

_LIMIT_FIELDS = ("provincial", "national", "blue_lead", "orange_lead")
_BOOKKEEPING = {"id", "clear", "sources", "superseded", "variants"}


class PolicyError(ValueError):
    """A pack is invalid; the message names the file, the field path and the reason."""


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


_M = TypeVar("_M", bound=_Rule)


def _merge_rule(parent: _M, child: _M, where: str) -> _M:
    """Field-wise patch: fields the child sets replace the parent's; `clear` removes fields."""
    data = {
        n: getattr(parent, n) for n in type(parent).model_fields if getattr(parent, n) is not None
    }
    for name in child.model_fields_set:
        if name in _BOOKKEEPING:
            continue
        data[name] = getattr(child, name)
    for name in child.clear or []:
        if name not in type(parent).model_fields or name in _BOOKKEEPING:
            raise PolicyError(f"{where}.clear: unknown field {name!r}")
        data.pop(name, None)
    # A variant keeps its `clear` so it can still remove the base monitor's value when applied.
    data["clear"] = child.clear if isinstance(child, VariantRule) else None
    return type(parent).model_validate(data)


def _record_superseded(
    parent: MonitorRule | VariantRule, child: MonitorRule | VariantRule
) -> list[Superseded]:
    out: list[Superseded] = []
    for name in _LIMIT_FIELDS:
        if name not in child.model_fields_set:
            continue
        old = getattr(parent, name)
        new = getattr(child, name)
        if isinstance(old, Duration) and old != new:
            out.append(
                Superseded(
                    field=name,
                    value=old.amount,
                    unit=old.unit,
                    source=parent.source,
                    replaced_by=child.source,
                )
            )
    return out


def _merge_monitor(parent: MonitorRule, child: MonitorRule, where: str) -> MonitorRule:
    merged = _merge_rule(parent, child, where)
    superseded = list(parent.superseded or []) + _record_superseded(parent, child)
    variants = {v.id: v for v in parent.variants or []}
    order = [v.id for v in parent.variants or []]
    for v in child.variants or []:
        if v.id in variants:
            old = variants[v.id]
            superseded += _record_superseded(old, v)
            new = _merge_rule(old, v, f"{where}.variants (id {v.id!r})")
            new = new.model_copy(update={"source": v.source or old.source})
            variants[v.id] = new
        else:
            variants[v.id] = v
            order.append(v.id)
    sources = list(parent.sources or ([parent.source] if parent.source else []))
    if child.source is not None and child.source not in sources:
        sources.append(child.source)
    return merged.model_copy(
        update={
            "variants": [variants[i] for i in order] or None,
            "sources": sources,
            "superseded": superseded or None,
            "source": child.source or parent.source,
        }
    )


_R = TypeVar("_R", StageRule, TooShortRule, BusinessTypeRule)


def _merge_simple(parent: _R, child: _R, where: str) -> _R:
    merged = _merge_rule(parent, child, where)
    sources = list(parent.sources or ([parent.source] if parent.source else []))
    if child.source is not None and child.source not in sources:
        sources.append(child.source)
    return merged.model_copy(update={"sources": sources, "source": child.source or parent.source})


def _first_source(rule: MonitorRule | _R) -> MonitorRule | _R:
    if rule.sources is None and rule.source is not None:
        return rule.model_copy(update={"sources": [rule.source]})
    return rule


def _merge_keyed(
    inherited: list[Any],
    own: list[Any],
    drop: list[str],
    where: str,
    merge: Any,
) -> list[Any]:
    seen: set[str] = set()
    for rule in own:
        if rule.id in seen:
            raise PolicyError(f"{where}: id {rule.id!r} appears twice in this pack")
        seen.add(rule.id)
    kept = [r for r in inherited if not any(fnmatch.fnmatchcase(r.id, pat) for pat in drop)]
    by_id = {r.id: i for i, r in enumerate(kept)}
    out = list(kept)
    for rule in own:
        if rule.id in by_id:
            out[by_id[rule.id]] = merge(out[by_id[rule.id]], rule, f"{where} (id {rule.id!r})")
        else:
            out.append(_first_source(rule))
            by_id[rule.id] = len(out) - 1
    return [r for r in out if getattr(r, "enabled", None) is not False]


def _merge_warning_rules(parent: WarningRules, child: WarningRules | None) -> WarningRules:
    if child is None:
        return parent
    data = parent.model_dump()
    for name in child.model_fields_set:
        data[name] = getattr(child, name)
    return WarningRules.model_validate(data)


def _resolve(unit: str, root: Path) -> ResolvedPolicy:
    chain = _chain(unit, root)
    digest = hashlib.sha256()
    settings: dict[str, Any] = {}
    warning_rules = WarningRules()
    profiles: dict[str, RecipientProfile] = {}
    aliases: dict[str, str] = {}
    bt_rules: list[BusinessTypeRule] = []
    stages: list[StageRule] = []
    monitors: list[MonitorRule] = []
    too_short: list[TooShortRule] = []
    params: dict[str, dict[str, Any]] = {}
    inconsistencies: dict[str, Inconsistency] = {}
    codes: dict[str, str] = {}
    app_flags: dict[str, str] = {}
    documents: list[Source] = []
    files: dict[str, str] = {}
    touched: dict[tuple[str, str], str] = {}
    for name, path, pack, raw in chain:
        rel = _rel(path)
        files[name] = rel
        for group in ("business_type_rules", "stages", "monitors", "too_short"):
            for rule in getattr(pack, group):
                touched[(group, rule.id)] = rel
        digest.update(name.encode() + b"\0" + raw + b"\0")
        drop = pack.pack.drop_inherited
        inherited = [r.id for group in (bt_rules, stages, monitors, too_short) for r in group]
        for i, pattern in enumerate(drop):
            if not any(fnmatch.fnmatchcase(rid, pattern) for rid in inherited):
                raise PolicyError(
                    f"{rel}: pack.drop_inherited[{i}]: {pattern!r} matches no inherited rule id"
                )
        if pack.settings is not None:
            settings.update({k: getattr(pack.settings, k) for k in pack.settings.model_fields_set})
        warning_rules = _merge_warning_rules(warning_rules, pack.warning_rules)
        profiles.update(pack.recipient_profiles)
        aliases.update(pack.event_aliases)
        codes.update(pack.pack.extra_codes)
        app_flags.update(pack.pack.application_flags)
        documents.extend(pack.pack.documents)
        bt_rules = _merge_keyed(
            bt_rules, pack.business_type_rules, drop, f"{rel}: business_type_rules", _merge_simple
        )
        stages = _merge_keyed(stages, pack.stages, drop, f"{rel}: stages", _merge_simple)
        monitors = _merge_keyed(monitors, pack.monitors, drop, f"{rel}: monitors", _merge_monitor)
        too_short = _merge_keyed(
            too_short, pack.too_short, drop, f"{rel}: too_short", _merge_simple
        )
        for key, table in pack.params.items():
            _check_param_source(rel, key, table)
            merged = dict(params.get(key, {}))
            merged.update(table)
            params[key] = merged
        for inc in pack.inconsistencies:
            inconsistencies[inc.id] = inc
        _check_pack_sources(rel, pack)
    own_file = files[unit]
    for key in ("timezone", "calendar_region", "clock", "day_hours"):
        if settings.get(key) is None:
            raise PolicyError(f"{own_file}: settings.{key}: no pack in the chain sets it")
    _check_clock(own_file, settings)
    resolved_settings = ResolvedSettings(
        timezone=settings["timezone"],
        calendar_region=settings["calendar_region"],
        clock=settings["clock"],
        day_hours=settings["day_hours"],
        office_periods=settings.get("office_periods") or [],
    )
    policy = ResolvedPolicy(
        unit=unit,
        chain=[c[0] for c in chain],
        version=digest.hexdigest()[:16],
        settings=resolved_settings,
        warning_rules=warning_rules,
        recipient_profiles=profiles,
        event_aliases=aliases,
        business_type_rules=bt_rules,
        stages=stages,
        monitors=monitors,
        too_short=too_short,
        params=params,
        inconsistencies=sorted(inconsistencies.values(), key=lambda i: i.id),
        codes=codes,
        documents=documents,
        application_flags=app_flags,
    )
    validate_policy(policy, files, touched)
    return policy


def _check_clock(rel: str, settings: dict[str, Any]) -> None:
    """The office-hours clock needs its periods, and a working day must be their total length."""
    periods: list[str] = settings.get("office_periods") or []
    if settings["clock"] == "working_day":
        if settings["day_hours"] != 24:
            raise PolicyError(
                f"{rel}: settings.day_hours: the working-day clock has 24-hour working days "
                f"(DESIGN.md §3), not {settings['day_hours']}"
            )
        return
    if not periods:
        raise PolicyError(f"{rel}: settings.office_periods: the office-hours clock needs periods")
    total = 0.0
    for i, text in enumerate(periods):
        try:
            start, end = text.split("-", 1)
            sh, sm = (int(x) for x in start.split(":"))
            eh, em = (int(x) for x in end.split(":"))
        except ValueError:
            raise PolicyError(
                f"{rel}: settings.office_periods[{i}]: {text!r} is not HH:MM-HH:MM"
            ) from None
        length = (eh * 60 + em - sh * 60 - sm) / 60
        if length <= 0:
            raise PolicyError(
                f"{rel}: settings.office_periods[{i}]: {text!r} ends before it starts"
            )
        total += length
    if abs(total - settings["day_hours"]) > 1e-9:
        raise PolicyError(
            f"{rel}: settings.day_hours: {settings['day_hours']} h but the office periods add up "
            f"to {total} h"
        )


def _check_param_source(rel: str, key: str, table: dict[str, Any]) -> None:
    src = table.get("source")
    if not isinstance(src, dict):
        raise PolicyError(f"{rel}: params.{key}.source: every parameter table needs a source")
    try:
        Source.model_validate(src)
    except ValidationError as exc:
        raise PolicyError(f"{rel}: params.{key}.source: {exc.errors()[0]['msg']}") from None


def _check_pack_sources(rel: str, pack: PackFile) -> None:
    """Every entry a pack writes cites where it comes from (a child's patch too)."""
    groups: list[tuple[str, Iterable[Any]]] = [
        ("business_type_rules", pack.business_type_rules),
        ("stages", pack.stages),
        ("monitors", pack.monitors),
        ("too_short", pack.too_short),
    ]
    for group, rules in groups:
        for i, rule in enumerate(rules):
            if rule.source is None:
                raise PolicyError(f"{rel}: {group}[{i}] (id {rule.id!r}).source: missing source")
            if isinstance(rule, MonitorRule):
                for j, v in enumerate(rule.variants or []):
                    if v.source is None:
                        raise PolicyError(
                            f"{rel}: {group}[{i}] (id {rule.id!r}).variants[{j}] "
                            f"(id {v.id!r}).source: missing source"
                        )
    if pack.warning_rules is not None and pack.warning_rules.source is None:
        raise PolicyError(f"{rel}: warning_rules.source: missing source")
    if pack.settings is not None and pack.settings.source is None:
        raise PolicyError(f"{rel}: settings.source: missing source")


def _check_event(name: str, codes: frozenset[str], aliases: dict[str, str], where: str) -> None:
    code, _, suffix = name.rpartition(".")
    code = aliases.get(code, code)
    if suffix not in EVENT_SUFFIXES or code not in codes:
        raise PolicyError(
            f"{where}: unknown event {name!r}: expected <code>.started or <code>.completed with a "
            "stage or notice code from docs/glossary.md (or the pack's extra_codes)"
        )


def _check_spec(
    spec: EventSpec, codes: frozenset[str], aliases: dict[str, str], where: str
) -> None:
    for name in spec.events:
        _check_event(name, codes, aliases, where)


def _check_condition(cond: Condition | None, where: str, flags: dict[str, str]) -> None:
    if cond is None:
        return
    bad = [b for b in cond.business_types or [] if b not in BUSINESS_TYPES]
    if bad:
        raise PolicyError(f"{where}.when.business_types: unknown business type {bad!r}")
    for name in ("flags", "not_flags"):
        undeclared = [f for f in getattr(cond, name) or [] if f not in flags]
        if undeclared:
            raise PolicyError(
                f"{where}.when.{name}: undeclared application flag {undeclared!r}; declare it in "
                "[pack] application_flags of this pack or an ancestor"
            )
    for sub in cond.any_of or []:
        _check_condition(sub, f"{where}.when.any_of", flags)


def _check_lead(
    lead: Duration | None, limit: Duration | None, day_hours: float, what: str, where: str
) -> None:
    if lead is None or limit is None:
        return
    if not same_clock(lead, limit):
        raise PolicyError(
            f"{where}.{what}_lead: {lead.amount} {lead.unit} and the limit {limit.amount} "
            f"{limit.unit} count on different clocks (working vs wall-clock)"
        )
    if lead.business_hours(day_hours) >= limit.business_hours(day_hours):
        tier = "provincial" if what == "blue" else "national"
        raise PolicyError(
            f"{where}.{what}_lead: {what} lead {lead.amount} {lead.unit} is not shorter than the "
            f"{tier} limit {limit.amount} {limit.unit}"
        )


def validate_policy(
    policy: ResolvedPolicy, files: dict[str, str], touched: dict[tuple[str, str], str] | None = None
) -> None:
    """Checks on the merged chain: completeness, codes, leads vs limits, references."""
    own = files[policy.unit]
    touched = touched or {}
    mcodes = known_monitor_codes(policy.codes)
    ecodes = known_event_codes(policy.codes)
    aliases = policy.event_aliases
    day_hours = policy.settings.day_hours
    inc_ids = {i.id for i in policy.inconsistencies}
    rule_ids: set[str] = set()

    def origin(rule_id: str, group: str) -> str:
        # The most specific file that touched the rule is where a fix belongs.
        return f"{touched.get((group, rule_id), own)}: {group} (id {rule_id!r})"

    for rule in policy.business_type_rules:
        where = origin(rule.id, "business_type_rules")
        for name in ("business_type", "treat_as"):
            value = getattr(rule, name)
            if value not in BUSINESS_TYPES:
                raise PolicyError(f"{where}.{name}: unknown business type {value!r}")
        _check_condition(rule.when, where, policy.application_flags)
    for srule in policy.stages:
        where = origin(srule.id, "stages")
        if srule.stage is None or srule.stage not in ecodes:
            raise PolicyError(f"{where}.stage: unknown stage code {srule.stage!r}")
        _check_condition(srule.when, where, policy.application_flags)
    for m in policy.monitors:
        where = origin(m.id, "monitors")
        rule_ids.add(m.id)
        if m.code is None:
            raise PolicyError(
                f"{where}.code: missing (a stage, notice or full_process code); no parent pack "
                "has a rule with this id to patch"
            )
        if m.code not in mcodes:
            raise PolicyError(
                f"{where}.code: unknown code {m.code!r}: use a docs/glossary.md stage or notice "
                "code, full_process, or declare it in pack.extra_codes"
            )
        if m.start is None:
            raise PolicyError(f"{where}.start: missing start condition")
        if m.stop is None:
            raise PolicyError(f"{where}.stop: missing stop condition")
        _check_spec(m.start, ecodes, aliases, f"{where}.start")
        _check_spec(m.stop, ecodes, aliases, f"{where}.stop")
        for i, p in enumerate(m.pauses or []):
            _check_event(p.from_event, ecodes, aliases, f"{where}.pauses[{i}].from_event")
            _check_event(p.to_event, ecodes, aliases, f"{where}.pauses[{i}].to_event")
        _check_condition(m.when, where, policy.application_flags)
        if m.recipients is not None and m.recipients not in policy.recipient_profiles:
            raise PolicyError(f"{where}.recipients: unknown recipient profile {m.recipients!r}")
        for flag in m.flags or []:
            if flag not in inc_ids:
                raise PolicyError(f"{where}.flags: no inconsistency with id {flag!r}")
        cases: list[tuple[str, MonitorRule | VariantRule]] = [(where, m)]
        for v in m.variants or []:
            vwhere = f"{where}.variants (id {v.id!r})"
            _check_condition(v.when, vwhere, policy.application_flags)
            for flag in v.flags or []:
                if flag not in inc_ids:
                    raise PolicyError(f"{vwhere}.flags: no inconsistency with id {flag!r}")
            if v.recipients is not None and v.recipients not in policy.recipient_profiles:
                raise PolicyError(
                    f"{vwhere}.recipients: unknown recipient profile {v.recipients!r}"
                )
            cases.append((vwhere, v))
        for cwhere, case in cases:
            eff = apply_case(m, case)
            _check_lead(eff.blue_lead, eff.provincial, day_hours, "blue", cwhere)
            _check_lead(eff.orange_lead, eff.national, day_hours, "orange", cwhere)
            if eff.levels:
                for level in eff.levels:
                    if level not in LEVELS:
                        raise PolicyError(f"{cwhere}.levels: unknown level {level!r}")
    for t in policy.too_short:
        where = origin(t.id, "too_short")
        rule_ids.add(t.id)
        if t.code is None or t.code not in mcodes:
            raise PolicyError(f"{where}.code: unknown or missing code {t.code!r}")
        if t.start is None or t.stop is None:
            raise PolicyError(f"{where}: start and stop are required")
        _check_spec(t.start, ecodes, aliases, f"{where}.start")
        _check_spec(t.stop, ecodes, aliases, f"{where}.stop")
        if t.provincial is None and t.national is None:
            raise PolicyError(f"{where}: give a provincial or national bound")
        if t.inclusive is None:
            raise PolicyError(f"{where}.inclusive: say whether the bound is ≤ (true) or < (false)")
        if t.result is None:
            raise PolicyError(f"{where}.result: missing")
        _check_condition(t.when, where, policy.application_flags)
    for inc in policy.inconsistencies:
        for rid in inc.rules:
            if rid not in rule_ids:
                raise PolicyError(
                    f"{own}: inconsistencies (id {inc.id!r}).rules: no monitor or too-short rule "
                    f"with id {rid!r}"
                )


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
