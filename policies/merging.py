"""Inheritance: a unit's chain of packs merged root-first into the parts of one policy.

A pack entry is a patch: a child names a parent's rule by `id` and sets only what it changes,
`clear` removes inherited values, `enabled = false` removes the rule, and `drop_inherited`
removes inherited rules by pattern. A replaced limit is kept in `superseded` with both clauses.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, TypeVar

from policies.errors import PolicyError
from policies.schema import (
    BusinessTypeRule,
    Duration,
    Inconsistency,
    MonitorRule,
    PackFile,
    RecipientProfile,
    Source,
    StageRule,
    Superseded,
    TooShortRule,
    VariantRule,
    WarningRules,
    _Rule,
)
from policies.validation import check_pack_sources, check_param_source

_LIMIT_FIELDS = ("provincial", "national", "blue_lead", "orange_lead")
_BOOKKEEPING = {"id", "clear", "sources", "superseded", "variants"}
#: The lists of rules that merge by id, in the order they are merged.
RULE_GROUPS = ("business_type_rules", "stages", "monitors", "too_short")


class MergedChain:
    """The packs of a chain merged so far (root first)."""

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}
        self.warning_rules = WarningRules()
        self.recipient_profiles: dict[str, RecipientProfile] = {}
        self.event_aliases: dict[str, str] = {}
        self.business_type_rules: list[BusinessTypeRule] = []
        self.stages: list[StageRule] = []
        self.monitors: list[MonitorRule] = []
        self.too_short: list[TooShortRule] = []
        self.params: dict[str, dict[str, Any]] = {}
        self.inconsistencies: dict[str, Inconsistency] = {}
        self.codes: dict[str, str] = {}
        self.application_flags: dict[str, str] = {}
        self.documents: list[Source] = []
        #: (rule group, rule id) → the most specific file that wrote the rule.
        self.touched: dict[tuple[str, str], str] = {}

    def add(self, rel: str, pack: PackFile) -> None:
        """Merge the pack at `rel` (a child of everything added before) on top."""
        for group in RULE_GROUPS:
            for rule in getattr(pack, group):
                self.touched[(group, rule.id)] = rel
        drop = pack.pack.drop_inherited
        self._check_drops(rel, drop)
        if pack.settings is not None:
            self.settings.update(
                {k: getattr(pack.settings, k) for k in pack.settings.model_fields_set}
            )
        self.warning_rules = _merge_warning_rules(self.warning_rules, pack.warning_rules)
        self.recipient_profiles.update(pack.recipient_profiles)
        self.event_aliases.update(pack.event_aliases)
        self.codes.update(pack.pack.extra_codes)
        self.application_flags.update(pack.pack.application_flags)
        self.documents.extend(pack.pack.documents)
        self._merge_rules(rel, pack, drop)
        for key, table in pack.params.items():
            check_param_source(rel, key, table)
            merged = dict(self.params.get(key, {}))
            merged.update(table)
            self.params[key] = merged
        for inc in pack.inconsistencies:
            self.inconsistencies[inc.id] = inc
        check_pack_sources(rel, pack)

    def _check_drops(self, rel: str, drop: list[str]) -> None:
        inherited = [r.id for group in RULE_GROUPS for r in getattr(self, group)]
        for i, pattern in enumerate(drop):
            if not any(fnmatch.fnmatchcase(rid, pattern) for rid in inherited):
                raise PolicyError(
                    f"{rel}: pack.drop_inherited[{i}]: {pattern!r} matches no inherited rule id"
                )

    def _merge_rules(self, rel: str, pack: PackFile, drop: list[str]) -> None:
        self.business_type_rules = _merge_keyed(
            self.business_type_rules,
            pack.business_type_rules,
            drop,
            f"{rel}: business_type_rules",
            _merge_simple,
        )
        self.stages = _merge_keyed(self.stages, pack.stages, drop, f"{rel}: stages", _merge_simple)
        self.monitors = _merge_keyed(
            self.monitors, pack.monitors, drop, f"{rel}: monitors", _merge_monitor
        )
        self.too_short = _merge_keyed(
            self.too_short, pack.too_short, drop, f"{rel}: too_short", _merge_simple
        )


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
    merge: Callable[[Any, Any, str], Any],
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
