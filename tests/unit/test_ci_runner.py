"""GitHubRunner: AWS's CodeBuild-hosted GitHub Actions runner, in the private subnets, with a role that can only run
the build; and the CI roles' access entries on the stacks' clusters."""

from __future__ import annotations

import json

import pytest
from mlops_platform.components.ci_runner import GitHubRunner, webhook_filters
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, plan_for, policy, statements

CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ARGS = {
    "project_name": "p-dev-ci-runner",
    "account_id": "123456789012",
    "region": "us-east-1",
    "repository": "org/repo",
    "connection_arn": CONNECTION,
    "vpc_id": "vpc-1",
    "subnet_ids": ["subnet-a", "subnet-b"],
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k",
    "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/p-dev-service-boundary",
    "workflows": ["Deploy", "Drift"],
}


@pytest.fixture(scope="module")
def plan():
    return record(lambda: GitHubRunner("runner", ARGS) and None)


def test_the_project_runs_in_the_private_subnets_with_the_env_key_and_logs(plan):
    project = plan.get("aws:codebuild/project:Project", "runner-project").inputs
    assert project["vpcConfig"]["subnets"] == ["subnet-a", "subnet-b"] and project["vpcConfig"]["vpcId"] == "vpc-1"
    assert project["encryptionKey"] == ARGS["kms_key_arn"]
    assert project["environment"]["privilegedMode"] is False
    assert project["source"]["auth"] == {"type": "CODECONNECTIONS", "resource": CONNECTION}
    assert project["logsConfig"]["cloudwatchLogs"]["status"] == "ENABLED"
    logs = plan.get("aws:cloudwatch/logGroup:LogGroup", "runner-logs").inputs
    assert logs["name"] == "/aws/codebuild/p-dev-ci-runner" and logs["kmsKeyId"] == ARGS["kms_key_arn"]


def test_the_webhook_starts_runners_only_for_queued_jobs_of_the_named_workflows(plan):
    webhook = plan.get("aws:codebuild/webhook:Webhook", "runner-webhook").inputs
    assert webhook["filterGroups"] == [
        {"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                     {"type": "WORKFLOW_NAME", "pattern": "^(Deploy|Drift)$"}]}
    ]  # fmt: skip
    assert webhook_filters(["Pulumi (up)"])[1]["pattern"] == r"^(Pulumi\ \(up\))$"  # names are matched literally


def test_nothing_reaches_the_runner_and_it_sends_only_https(plan):
    group = plan.get("aws:ec2/securityGroup:SecurityGroup", "runner-sg").inputs
    assert not group.get("ingress")
    assert [(rule["protocol"], rule["fromPort"], rule["toPort"]) for rule in group["egress"]] == [("tcp", 443, 443)]


def test_the_runner_role_can_only_run_the_build(plan):
    role = plan.get("aws:iam/role:Role", "runner-role").inputs
    [trust] = statements(json.loads(role["assumeRolePolicy"]))
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert role["permissionsBoundary"] == ARGS["permissions_boundary_arn"]
    actions = {a for s in statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "runner-policy")))
               for a in as_list(s["Action"])}  # fmt: skip
    assert {a.split(":")[0] for a in actions} == {"logs", "ec2", "codeconnections", "kms"}
    assert not [a for a in actions if a.startswith(("iam:", "sts:", "s3:", "eks:"))]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("project_name", "has space", "project_name='has space' must be 2-64 letters"),
    ("workflows", [], "workflows must name at least one workflow"),
    ("repository", "just-a-name", "repository='just-a-name': String should match pattern"),
])  # fmt: skip
def test_bad_arguments_are_refused_before_anything_is_registered(key, value, message):
    with pytest.raises(ValueError, match=message):
        GitHubRunner("bad", {**ARGS, key: value})


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_ci_roles_have_their_own_access_entries_and_the_runner_reaches_the_api(stack):
    plan = plan_for(stack)
    policies = {
        r.inputs["principalArn"].rsplit("/", 1)[-1]: r.inputs["policyArn"].rsplit("/", 1)[-1]
        for r in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if "-ci-" in r.inputs["principalArn"]
    }
    # The deployer administers; the drift reader has no access policy (RBAC of its group, tests/access/
    # test_eks_access.py); the pull-request previewer has no entry at all.
    assert policies == {f"mlops-platform-{stack}-ci-deployer": "AmazonEKSClusterAdminPolicy"}
    entries = {
        r.inputs["principalArn"].rsplit("/", 1)[-1]: r.inputs.get("kubernetesGroups")
        for r in plan.of_type("aws:eks/accessEntry:AccessEntry")
        if "-ci-" in r.inputs["principalArn"]
    }
    assert entries == {
        f"mlops-platform-{stack}-ci-deployer": None,
        f"mlops-platform-{stack}-ci-drift": ["mlops-drift-readers"],
    }
    rule = plan.get("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "ci-runner-to-cluster-api").inputs
    assert (rule["fromPort"], rule["toPort"], rule["ipProtocol"]) == (443, 443, "tcp")
    assert rule["referencedSecurityGroupId"] == "ci-runner-sg-id"
