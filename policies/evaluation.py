"""Run every rule over a `Stack` (offline preview, tests): findings, suppressions, what blocks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import suppressions as _suppressions
from .core import RULES, Level, Resource, Rule, Stack, Status, Verdict, failed
from .suppressions import Suppression


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one resource."""

    rule: Rule
    resource: Resource
    verdict: Verdict
    suppression: Suppression | None = None
    """The suppression covering a failure (None for passes and for unsuppressed failures)."""

    @property
    def failed(self) -> bool:
        """The rule failed (suppressed or not)."""
        return self.verdict.status is Status.FAIL

    @property
    def blocking(self) -> bool:
        """A mandatory failure nobody suppressed: the preview exits non-zero."""
        return self.failed and self.suppression is None and self.rule.level is Level.MANDATORY

    @property
    def outcome(self) -> str:
        """pass, fail, suppressed or not-applicable."""
        if self.failed and self.suppression is not None:
            return "suppressed"
        return self.verdict.status.value

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the `--json` plan."""
        return {
            "rule": self.rule.id,
            "level": self.rule.level.value,
            "resource": self.resource.name,
            "type": self.resource.type,
            "urn": self.resource.urn,
            "outcome": self.outcome,
            "reason": self.verdict.reason,
            "suppression_reason": self.suppression.reason if self.suppression else None,
        }


@dataclass(frozen=True)
class Evaluation:
    """All findings of one stack, and the suppressions that matched nothing."""

    stack: str
    rules: tuple[Rule, ...]
    findings: tuple[Finding, ...]
    suppressions: tuple[Suppression, ...]
    unused_suppressions: tuple[Suppression, ...]

    @property
    def blocking(self) -> list[Finding]:
        """Unsuppressed mandatory failures."""
        return [f for f in self.findings if f.blocking]

    @property
    def failures(self) -> list[Finding]:
        """Every failure: mandatory first, suppressed last."""
        found = [f for f in self.findings if f.failed]
        return sorted(
            found,
            key=lambda f: (f.suppression is not None, f.rule.level is not Level.MANDATORY, f.rule.id, f.resource.name),
        )

    @property
    def suppressed(self) -> list[Finding]:
        """Failures covered by a suppression."""
        return [f for f in self.findings if f.failed and f.suppression is not None]

    def counts(self, rule: Rule | None = None) -> dict[str, int]:
        """Findings by outcome (pass, fail, suppressed, not-applicable), for one rule or all."""
        counts = {"pass": 0, "fail": 0, "suppressed": 0, "not-applicable": 0}
        for finding in self.findings:
            if rule is None or finding.rule is rule:
                counts[finding.outcome] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The `policy` section of the `--json` plan."""
        return {
            "stack": self.stack,
            "passed": not self.blocking,
            "summary": self.counts(),
            "blocking": len(self.blocking),
            "rules": [
                {
                    "id": r.id,
                    "level": r.level.value,
                    "scope": r.scope.value,
                    "description": r.description,
                    "remediation": r.remediation,
                    "types": list(r.types),
                    "counts": self.counts(r),
                }
                for r in self.rules
            ],
            "findings": [f.to_dict() for f in self.findings],
            "suppressions": [s.to_dict() for s in self.suppressions],
            "unused_suppressions": [s.to_dict() for s in self.unused_suppressions],
        }


def evaluate(
    stack: Stack,
    rules: Iterable[Rule] | None = None,
    suppressions: Sequence[Suppression] | None = None,
) -> Evaluation:
    """Every applicable rule on every resource of `stack`.

    `rules` defaults to all registered rules; `suppressions` to policies/suppressions.yaml. A rule that
    raises is reported as a failure naming the exception, never skipped silently.
    """
    if rules is None:
        from . import rules as _rules  # noqa: F401 (registers every rule)

        rules = list(RULES.values())
    rules = tuple(rules)
    if suppressions is None:
        suppressions = _suppressions.load(known_rules=RULES)
    findings = []
    used: set[int] = set()
    for resource in stack.resources:
        for rule in rules:
            if not rule.applies_to(resource.type):
                continue
            try:
                verdict = rule.evaluate(resource, stack)
            except Exception as exc:
                verdict = failed(f"rule raised {type(exc).__name__}: {exc}")
            suppression = None
            if verdict.status is Status.FAIL:
                suppression = _suppressions.find(suppressions, rule.id, resource.urn, resource.name, stack.name)
                if suppression is not None:
                    used.add(id(suppression))
            findings.append(Finding(rule, resource, verdict, suppression))
    unused = tuple(s for s in suppressions if id(s) not in used)
    return Evaluation(stack.name, rules, tuple(findings), tuple(suppressions), unused)
