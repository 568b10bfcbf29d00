"""The rules as pulumi-policy policies: one ResourceValidationPolicy or StackValidationPolicy per rule.

Resource rules run on each resource's inputs before it is created or updated; stack rules run on the
stack's resource states once the program has registered everything (during a preview, values that are
not known yet make pulumi-policy report "can't run policy during preview" as advisory). Suppressed
failures are not reported to the engine; the offline preview lists them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_policy as pp
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError

from . import rules as _rules  # noqa: F401 (registers every rule)
from . import suppressions as _suppressions
from .core import RULES, Level, Provider, Resource, Rule, Scope, Stack, Status, Verdict, failed, stack_of
from .suppressions import Suppression

PACK_NAME = "mlops-platform"
"""Name the engine shows for the pack (letters, digits, `-_.`)."""


def enforcement(level: Level) -> pp.EnforcementLevel:
    """pulumi-policy's enforcement level for ours."""
    return pp.EnforcementLevel.MANDATORY if level is Level.MANDATORY else pp.EnforcementLevel.ADVISORY


def _provider(provider: pp.PolicyProviderResource | None) -> Provider | None:
    if provider is None:
        return None
    return Provider(provider.resource_type, provider.name, provider.urn, provider.props)


def resource_from_args(args: pp.ResourceValidationArgs) -> Resource:
    """The rule view of the resource being validated (inputs; retain_on_delete is not passed to packs)."""
    return Resource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=args.props,
        parent=args.opts.parent,
        provider=_provider(args.provider),
        protect=bool(args.opts.protect),
        retain_on_delete=None,
    )


def stack_from_args(args: pp.StackValidationArgs) -> Stack:
    """The rule view of the whole stack (resource states, parents, property dependencies)."""
    resources = tuple(
        Resource(
            type=r.resource_type,
            name=r.name,
            urn=r.urn,
            props=r.props,
            parent=r.parent.urn if r.parent is not None else r.opts.parent,
            provider=_provider(r.provider),
            protect=bool(r.opts.protect),
            retain_on_delete=None,
            property_dependencies={k: tuple(d.urn for d in deps) for k, deps in r.property_dependencies.items()},
        )
        for r in args.resources
    )
    name = stack_of(resources[0].urn) if resources else ""
    return Stack(name=name, resources=resources)


def message(rule: Rule, verdict: Verdict) -> str:
    """The violation text the engine prints: the reason, then how to fix it."""
    return f"{rule.id}: {verdict.reason}. Remediation: {rule.remediation}"


def _judge(rule: Rule, resource: Resource, stack: Stack | None) -> Verdict:
    """The rule's verdict; a rule that raises (other than on an unknown preview value) fails, as offline."""
    try:
        return rule.evaluate(resource, stack)
    except (UnknownValueError, _NotApplicableError):
        raise
    except Exception as exc:
        return failed(f"rule raised {type(exc).__name__}: {exc}")


def _suppressed(rule: Rule, resource: Resource, suppressions: Sequence[Suppression]) -> bool:
    return _suppressions.find(suppressions, rule.id, resource.urn, resource.name, resource.stack) is not None


def resource_policy(rule: Rule, suppressions: Sequence[Suppression]) -> pp.ResourceValidationPolicy:
    """A ResourceValidationPolicy running `rule` on each resource of its types."""

    def validate(args: pp.ResourceValidationArgs, report_violation: pp.ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        resource = resource_from_args(args)
        verdict = _judge(rule, resource, None)
        if verdict.status is Status.FAIL and not _suppressed(rule, resource, suppressions):
            report_violation(message(rule, verdict), None)
        elif verdict.status is Status.NOT_APPLICABLE:
            args.not_applicable(verdict.reason)

    return pp.ResourceValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=enforcement(rule.level),
        remediation_steps=rule.remediation,
        tags=[rule.id.split("-")[1].lower()],
    )


def stack_policy(rule: Rule, suppressions: Sequence[Suppression]) -> pp.StackValidationPolicy:
    """A StackValidationPolicy running `rule` on every resource of its types, with the stack in view.

    A value unknown during preview skips only that resource; the first such error is re-raised at the
    end so the engine still says the rule could not fully run.
    """

    def validate(args: pp.StackValidationArgs, report_violation: pp.ReportViolation) -> None:
        stack = stack_from_args(args)
        unknown: UnknownValueError | None = None
        for resource in stack.resources:
            if not rule.applies_to(resource.type):
                continue
            try:
                verdict = _judge(rule, resource, stack)
            except UnknownValueError as exc:
                unknown = unknown or exc
                continue
            if verdict.status is Status.FAIL and not _suppressed(rule, resource, suppressions):
                report_violation(message(rule, verdict), resource.urn)
        if unknown is not None:
            raise unknown

    return pp.StackValidationPolicy(
        name=rule.id,
        description=rule.description,
        validate=validate,
        enforcement_level=enforcement(rule.level),
        remediation_steps=rule.remediation,
        tags=[rule.id.split("-")[1].lower()],
    )


def policies(suppressions: Sequence[Suppression] | None = None) -> list[pp.Policy]:
    """One pulumi-policy Policy per registered rule, in ID order."""
    if suppressions is None:
        suppressions = _suppressions.load(known_rules=RULES)
    build = {Scope.RESOURCE: resource_policy, Scope.STACK: stack_policy}
    return [build[rule.scope](rule, suppressions) for rule in RULES.values()]
