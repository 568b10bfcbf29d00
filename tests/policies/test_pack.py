"""The pulumi-policy side: __main__ builds the pack, and the engine-facing validators (fed the SDK's own
argument classes, unknown-value proxies included) report what the offline evaluation finds."""

from __future__ import annotations

import contextlib
import dataclasses
import runpy
from pathlib import Path

import pulumi_policy as pp
import pytest
from mlops_platform.policies import RULES, Stack, evaluate
from mlops_platform.policies.core import Scope
from mlops_platform.policies.pack import PACK_NAME, policies, resource_policy, stack_policy
from mlops_platform.policies.suppressions import Suppression
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from tests.conftest import plan_for
from tests.policies.builders import KEY_ARN, bucket_stack, provider

REPO = Path(__file__).resolve().parents[2]


def _opts(protect: bool = False, parent: str | None = None) -> pp.PolicyResourceOptions:
    return pp.PolicyResourceOptions(protect, [], None, [], pp.PolicyCustomTimeouts(0, 0, 0), [], parent)


def _engine_provider(p) -> pp.PolicyProviderResource | None:
    return (
        None if p is None else pp.PolicyProviderResource(p.type, unknown_checking_proxy(dict(p.props)), p.urn, p.name)
    )


def resource_args(resource) -> pp.ResourceValidationArgs:
    """What the engine passes a ResourceValidationPolicy for this (rule-view) resource."""
    return pp.ResourceValidationArgs(
        resource.type,
        unknown_checking_proxy(dict(resource.props)),
        resource.urn,
        resource.name,
        _opts(resource.protect, resource.parent),
        _engine_provider(resource.provider),
    )


def stack_args(stack: Stack) -> pp.StackValidationArgs:
    """What the engine passes a StackValidationPolicy: PolicyResources linked by parent and dependencies."""
    engine = {
        r.urn: pp.PolicyResource(
            r.type,
            unknown_checking_proxy(dict(r.props)),
            r.urn,
            r.name,
            _opts(r.protect, r.parent),
            _engine_provider(r.provider),
            None,
            [],
            {},
        )
        for r in stack.resources
    }
    for r in stack.resources:
        engine[r.urn].parent = engine.get(r.parent) if r.parent else None
        engine[r.urn].property_dependencies = {
            k: [engine[u] for u in urns if u in engine] for k, urns in r.property_dependencies.items()
        }
    return pp.StackValidationArgs(list(engine.values()))


def run_pack(stack: Stack, suppressions=()) -> set[tuple[str, str]]:
    """(rule ID, URN) of every violation the pack's policies report on the stack."""
    found: set[tuple[str, str]] = set()
    for policy in policies(list(suppressions)):

        def report(message, urn=None, _name=policy.name, _resource_urn=None):
            found.add((_name, urn or _resource_urn))

        if isinstance(policy, pp.StackValidationPolicy):
            policy.validate(stack_args(stack), report)
            continue
        for resource in stack.resources:

            def per_resource(message, urn=None, _name=policy.name, _urn=resource.urn):
                found.add((_name, _urn))

            with contextlib.suppress(_NotApplicableError):
                policy.validate(resource_args(resource), per_resource)
    return found


def test_main_builds_the_pack_with_one_policy_per_rule(monkeypatch):
    built = {}

    class RecordingPack:
        def __init__(self, name, policies, enforcement_level=None, **kwargs):
            built.update(name=name, policies=policies, level=enforcement_level, **kwargs)

    monkeypatch.setattr(pp, "PolicyPack", RecordingPack)
    runpy.run_path(str(REPO / "policies" / "__main__.py"), run_name="__main__")

    assert built["name"] == PACK_NAME
    assert [p.name for p in built["policies"]] == list(RULES)
    for policy in built["policies"]:
        rule = RULES[policy.name]
        expected = pp.StackValidationPolicy if rule.scope is Scope.STACK else pp.ResourceValidationPolicy
        assert isinstance(policy, expected)
        assert policy.enforcement_level.value == rule.level.value
        assert policy.remediation_steps == rule.remediation and policy.description == rule.description


def test_policy_pack_yaml_declares_the_python_runtime():
    import yaml

    project = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python" and project["version"]


def test_resource_policy_reports_violation_with_reason_and_remediation():
    from tests.policies.builders import res

    repository = res("aws:ecr/repository:Repository", {"imageTagMutability": "MUTABLE"})
    reports = []
    resource_policy(RULES["MLOPS-ECR-001"], []).validate(resource_args(repository), lambda m, u=None: reports.append(m))
    [message] = reports
    assert message.startswith("MLOPS-ECR-001: image_tag_mutability is MUTABLE")
    assert "Remediation: Set image_tag_mutability='IMMUTABLE'" in message


def test_resource_policy_skips_other_types_marks_not_applicable_and_honours_suppressions():
    from tests.policies.builders import res

    reports = []
    policy = resource_policy(RULES["MLOPS-SM-002"], [])
    policy.validate(resource_args(res("aws:sns/topic:Topic", {})), lambda m, u=None: reports.append(m))
    with pytest.raises(_NotApplicableError):
        policy.validate(
            resource_args(res("aws:sagemaker/endpointConfiguration:EndpointConfiguration", {"kmsKeyArn": KEY_ARN})),
            lambda m, u=None: reports.append(m),
        )
    topic = res("aws:sns/topic:Topic", {}, name="alerts")
    waived = [Suppression("MLOPS-SNS-001", "alerts", "a test waiver with a long enough reason")]
    resource_policy(RULES["MLOPS-SNS-001"], waived).validate(resource_args(topic), lambda m, u=None: reports.append(m))
    assert reports == []


def test_stack_policy_reports_the_offending_resource_urn():
    st, bucket = bucket_stack(drop=("logging",))
    reports = []
    stack_policy(RULES["MLOPS-S3-006"], []).validate(stack_args(st), lambda m, u=None: reports.append((m, u)))
    [(message, urn)] = reports
    assert urn == bucket.urn and "no server access logging" in message


def test_unknown_values_in_preview_skip_only_that_resource_then_surface():
    """During a first preview the bucket policy text is unknown: the other buckets are still judged."""
    known, first = bucket_stack(drop=("logging",))
    pending, second = bucket_stack(stack_name="dev")
    second = dataclasses.replace(second, name="pending-bucket", urn=second.urn.replace("raw-bucket", "pending-bucket"))
    children = [
        dataclasses.replace(
            r,
            urn=r.urn + "-2",
            props={**r.props, "policy": UNKNOWN_STRING_VALUE} if r.type.endswith("BucketPolicy") else r.props,
            property_dependencies={"bucket": (second.urn,)},
        )
        for r in pending.resources[1:]
    ]
    st = Stack("dev", (*known.resources, second, *children))
    reports = []
    with pytest.raises(UnknownValueError):
        stack_policy(RULES["MLOPS-S3-004"], []).validate(stack_args(st), lambda m, u=None: reports.append(u))
    assert reports == []  # the known bucket complies; the pending one could not be judged yet
    reports.clear()
    stack_policy(RULES["MLOPS-S3-006"], []).validate(stack_args(st), lambda m, u=None: reports.append(u))
    assert reports == [first.urn]


@pytest.mark.parametrize("stack_name", ["dev", "prod"])
def test_pack_and_offline_evaluation_agree_on_the_real_stacks(stack_name):
    """No violations in the real stacks, through either path; the suppressed log bucket stays quiet."""
    offline = evaluate(Stack.from_plan(plan_for(stack_name)))
    suppressions = offline.suppressions
    assert not offline.blocking
    assert run_pack(Stack.from_plan(plan_for(stack_name)), suppressions) == set()


def test_pack_and_offline_evaluation_find_the_same_violations():
    """An unprotected prod bucket and an untagged provider, found the same way by both paths."""
    plan = plan_for("prod")
    raw = next(r for r in plan.resources if r.name == "datalake-raw-bucket")
    aws = next(r for r in plan.resources if r.type == "pulumi:providers:aws")
    broken = dataclasses.replace(
        plan,
        resources=[
            dataclasses.replace(r, options={**r.options, "protect": False})
            if r is raw
            else dataclasses.replace(r, inputs={**r.inputs, "defaultTags": '{"tags": {"env": "prod"}}'})
            if r is aws
            else r
            for r in plan.resources
        ],
    )
    offline = evaluate(Stack.from_plan(broken))
    expected = {(f.rule.id, f.resource.urn) for f in offline.findings if f.failed and f.suppression is None}
    assert ("MLOPS-PROD-001", raw.urn) in expected and ("MLOPS-TAG-001", aws.urn) in expected
    assert len([e for e in expected if e[0] == "MLOPS-TAG-002"]) > 50  # every AWS resource inherits the gap
    assert run_pack(Stack.from_plan(broken), offline.suppressions) == expected


def test_engine_provider_props_arrive_as_text_or_objects():
    from tests.policies.builders import res

    for tagged in (provider(as_json=True), provider(as_json=False)):
        topic = res("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY_ARN}, provider_=tagged)
        reports: list[str] = []
        resource_policy(RULES["MLOPS-TAG-002"], []).validate(
            resource_args(topic), lambda m, u=None, r=reports: r.append(m)
        )
        assert reports == []


def test_the_offline_preview_path_does_not_import_pulumi_policy():
    """The preview runs the rules without pulumi-policy (and its gRPC analyzer server)."""
    import subprocess
    import sys

    code = "import sys, infra.tooling.cli, infra.tooling.verdicts, policies; print('pulumi_policy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
