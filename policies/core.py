"""The rule machinery shared by the pulumi-policy pack and the offline preview.

A rule is a plain function decorated with `resource_rule` or `stack_rule`. It receives one `Resource`
(type, name, URN, camelCase props, options, provider) and, for a stack rule, the whole `Stack`, and
returns a tri-state `Verdict`: `passed()`, `failed(reason)` or `not_applicable(reason)`.

The views are built either from the engine's `ResourceValidationArgs` / `StackValidationArgs`
(policies/pack.py) or from an offline `Plan` (`Stack.from_plan`), so one function judges both.
Nothing here imports pulumi_policy or infra.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any


class Level(StrEnum):
    """Enforcement level: a mandatory violation blocks the deployment (and the offline preview)."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"


class Status(StrEnum):
    """Outcome of one rule on one resource."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Verdict:
    """A rule's tri-state answer, with the reason a reviewer reads."""

    status: Status
    reason: str = ""


def passed(reason: str = "") -> Verdict:
    """The resource complies."""
    return Verdict(Status.PASS, reason)


def failed(reason: str) -> Verdict:
    """The resource violates the rule; `reason` says what is wrong, in the resource's terms."""
    return Verdict(Status.FAIL, reason)


def not_applicable(reason: str) -> Verdict:
    """The rule has nothing to judge on this resource (e.g. no data capture configured)."""
    return Verdict(Status.NOT_APPLICABLE, reason)


@dataclass(frozen=True)
class Provider:
    """The provider resource a resource is registered with."""

    type: str
    """`pulumi:providers:aws`."""
    name: str
    """Logical name; the engine's default providers are named `default` or `default_<version>`."""
    urn: str
    props: Mapping[str, Any]
    """Provider inputs (camelCase); object-valued ones may arrive as JSON text."""

    @property
    def is_default(self) -> bool:
        """True for an engine-created default provider (not one the program declared)."""
        return self.name == "default" or self.name.startswith("default_")


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: the same shape from the engine and from an offline plan."""

    type: str
    """Type token, e.g. `aws:s3/bucket:Bucket`."""
    name: str
    """Logical name."""
    urn: str
    props: Mapping[str, Any]
    """Inputs (resource rules) or state (stack rules, in the engine), camelCase wire names."""
    parent: str | None = None
    """Parent URN."""
    provider: Provider | None = None
    protect: bool = False
    retain_on_delete: bool | None = None
    """None when unknown: pulumi-policy does not pass `retain_on_delete` to policy packs."""
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Input name -> URNs of the resources that input was computed from."""

    @property
    def stack(self) -> str:
        """Stack name, from the URN (`urn:pulumi:<stack>::<project>::...`)."""
        return stack_of(self.urn)

    def get(self, key: str, default: Any = None) -> Any:
        """A top-level prop, or `default` when absent or null."""
        value = self.props.get(key)
        return default if value is None else value


def stack_of(urn: str) -> str:
    """The stack segment of a URN."""
    return urn.removeprefix("urn:pulumi:").split("::", 1)[0]


def make_urn(stack: str, project: str, type_: str, name: str, parent_type: str | None = None) -> str:
    """A URN in the engine's format (for synthetic resources in tests and examples)."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


@dataclass(frozen=True)
class Stack:
    """Every resource of one stack, for rules that look across resources."""

    name: str
    """Stack name, e.g. `prod`."""
    resources: tuple[Resource, ...]

    def of_type(self, *types: str) -> list[Resource]:
        """Resources whose type token is one of `types`."""
        return [r for r in self.resources if r.type in types]

    def by_urn(self, urn: str) -> Resource | None:
        """The resource with this URN, if present."""
        return next((r for r in self.resources if r.urn == urn), None)

    def referencing(self, target: Resource, type_: str, prop: str) -> list[Resource]:
        """Resources of `type_` whose input `prop` refers to `target`.

        A reference is a property dependency on the target (what the engine and the offline recorder
        both report), or, when no dependency is recorded for `prop`, the same value as the target's
        `id`, physical name or ARN (state seen by a stack policy after an import, say).
        """
        identities = {_known(target.props, k) for k in ("id", "bucket", "name", "arn")} - {None, ""}
        found = []
        for candidate in self.of_type(type_):
            deps = candidate.property_dependencies.get(prop)
            if deps:
                if target.urn in deps:
                    found.append(candidate)
            elif identities and _known(candidate.props, prop) in identities:
                found.append(candidate)
        return found

    @classmethod
    def from_plan(cls, plan: Any) -> Stack:
        """A stack view of an offline plan (`infra.tooling.offline.Plan`, duck-typed: no import of infra)."""
        providers = {
            (r.type.removeprefix("pulumi:providers:"), r.name): Provider(r.type, r.name, r.urn, dict(r.inputs))
            for r in plan.resources
            if r.type.startswith("pulumi:providers:")
        }
        resources = []
        for r in plan.resources:
            package = r.type.split(":", 1)[0]
            provider = providers.get((package, r.provider)) if r.provider else None
            resources.append(
                Resource(
                    type=r.type,
                    name=r.name,
                    urn=r.urn,
                    props=r.inputs,
                    parent=r.parent,
                    provider=provider,
                    protect=bool(r.options.get("protect")),
                    retain_on_delete=bool(r.options.get("retain_on_delete")),
                    property_dependencies=dict(getattr(r, "property_dependencies", {}) or {}),
                )
            )
        return cls(name=plan.stack, resources=tuple(resources))


def _known(props: Mapping[str, Any], key: str) -> Any:
    """props[key], or None when absent or not yet known (pulumi-policy raises UnknownValueError in previews)."""
    try:
        value = props.get(key)
    except Exception as exc:
        if type(exc).__name__ == "UnknownValueError":
            return None
        raise
    return value if isinstance(value, str) else None


ResourceCheck = Callable[[Resource], Verdict]
StackCheck = Callable[[Resource, Stack], Verdict]


class Scope(StrEnum):
    """Where the rule runs in the engine: per resource (inputs, before create) or over the whole stack."""

    RESOURCE = "resource"
    STACK = "stack"


@dataclass(frozen=True)
class Rule:
    """A rule's metadata and its check function."""

    id: str
    """Stable identifier, e.g. `MLOPS-S3-001`; suppressions and the policy pack refer to it."""
    level: Level
    description: str
    """What compliant looks like, in one sentence."""
    remediation: str
    """How to fix a violation."""
    types: tuple[str, ...]
    """Type tokens (fnmatch patterns allowed, e.g. `aws:*`) of the resources the rule judges."""
    scope: Scope
    check: Callable[..., Verdict]

    def applies_to(self, type_: str) -> bool:
        """Whether the rule judges resources of this type."""
        return any(fnmatchcase(type_, pattern) for pattern in self.types)

    def evaluate(self, resource: Resource, stack: Stack | None = None) -> Verdict:
        """Run the check on one resource (the stack is needed for stack rules)."""
        if self.scope is Scope.STACK:
            if stack is None:
                raise ValueError(f"{self.id} looks across resources and needs the stack")
            return self.check(resource, stack)
        return self.check(resource)


RULES: dict[str, Rule] = {}
"""Every registered rule by ID, in registration order (importing `policies.rules` registers them)."""


def _register(rule_id: str, level: Level, types: Iterable[str], description: str, remediation: str, scope: Scope):
    def decorate(fn):
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} is registered twice")
        rule = Rule(rule_id, level, description, remediation, tuple(types), scope, fn)
        RULES[rule_id] = rule
        fn.rule = rule
        return fn

    return decorate


def resource_rule(rule_id: str, level: Level, *, types: Iterable[str], description: str, remediation: str):
    """Register `fn(resource) -> Verdict`: judged on the resource's own props (and its provider)."""
    return _register(rule_id, level, types, description, remediation, Scope.RESOURCE)


def stack_rule(rule_id: str, level: Level, *, types: Iterable[str], description: str, remediation: str):
    """Register `fn(resource, stack) -> Verdict`: judged with the other resources of the stack in view."""
    return _register(rule_id, level, types, description, remediation, Scope.STACK)


# ---- helpers the rules share ----------------------------------------------------------------------


def as_list(value: Any) -> list:
    """IAM and AWS schemas allow a scalar or a list; always a list (None -> [])."""
    if value is None:
        return []
    # pulumi-policy wraps lists in a read-only Sequence proxy.
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str | bytes) else [value]


def parse_json(value: Any) -> Any:
    """An object prop that may arrive as JSON text (policy documents, provider config)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def truthy(value: Any) -> bool:
    """AWS schema booleans sometimes travel as strings ("true")."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def first(value: Any) -> Mapping[str, Any]:
    """The first element of a max-1 list block (or the block itself), {} when absent."""
    items = as_list(value)
    head = items[0] if items else {}
    return head if isinstance(head, Mapping) else {}
