"""Explicit exceptions to the rules: each names a rule ID, the resources it covers and why.

They live in `policies/suppressions.yaml` so a reviewer sees every exception in one diff. A suppressed
failure is still evaluated and listed (offline preview, `--json`, `--markdown`); it just does not block.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

SUPPRESSIONS_FILE = Path(__file__).with_name("suppressions.yaml")


@dataclass(frozen=True)
class Suppression:
    """One accepted exception."""

    rule: str
    """Rule ID, e.g. `MLOPS-S3-001`."""
    resource: str
    """fnmatch pattern matched against the resource's URN and against its logical name."""
    reason: str
    """Why the exception is safe; shown next to the suppressed verdict."""
    stacks: tuple[str, ...] = ()
    """Stacks it applies to; empty means every stack."""

    def matches(self, rule_id: str, urn: str, name: str, stack: str) -> bool:
        """Whether this suppression covers `rule_id` on the resource."""
        if rule_id != self.rule or (self.stacks and stack not in self.stacks):
            return False
        return fnmatchcase(urn, self.resource) or fnmatchcase(name, self.resource)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"rule": self.rule, "resource": self.resource, "reason": self.reason, "stacks": list(self.stacks)}


def parse(entries: Iterable[Mapping[str, Any]], known_rules: Iterable[str] | None = None) -> list[Suppression]:
    """Validate raw entries: rule, resource and a non-trivial reason are required; the rule must exist."""
    known = set(known_rules) if known_rules is not None else None
    result = []
    for index, entry in enumerate(entries):
        where = f"suppressions[{index}]"
        unknown_keys = set(entry) - {"rule", "resource", "reason", "stacks"}
        if unknown_keys:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown_keys))}; accepted: rule, resource, reason, stacks"
            )
        for key in ("rule", "resource", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ValueError(f"{where}.{key} is required (a non-empty string)")
        if len(entry["reason"].strip()) < 20:
            raise ValueError(f"{where}.reason = {entry['reason']!r}: explain why (at least 20 characters)")
        if known is not None and entry["rule"] not in known:
            raise ValueError(f"{where}.rule = {entry['rule']!r}: no such rule")
        stacks = entry.get("stacks") or ()
        if isinstance(stacks, str) or not all(isinstance(s, str) for s in stacks):
            raise ValueError(f"{where}.stacks must be a list of stack names")
        result.append(Suppression(entry["rule"], entry["resource"], " ".join(entry["reason"].split()), tuple(stacks)))
    return result


def load(path: Path = SUPPRESSIONS_FILE, known_rules: Iterable[str] | None = None) -> list[Suppression]:
    """The suppressions in `path` (a YAML document with a `suppressions:` list)."""
    document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return parse(document.get("suppressions") or [], known_rules)


def find(suppressions: Sequence[Suppression], rule_id: str, urn: str, name: str, stack: str) -> Suppression | None:
    """The first suppression covering this rule and resource."""
    return next((s for s in suppressions if s.matches(rule_id, urn, name, stack)), None)
