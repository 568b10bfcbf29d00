"""Who gets the VPC runner, and what a job on it holds (security review: a same-repository pull request can name
a workflow "Deploy").

The webhook filters are evaluated the way CodeBuild documents them (`policies.webhook_eval`), with the filter
table pinned to the API reference text in botocore's codebuild model; the runner role's rights are decided by
`policies.iam_eval` over the planned policy.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from botocore.loaders import Loader
from mlops_platform.components.ci_runner import GitHubRunner, webhook_filters
from mlops_platform.infra.config import ConfigError, parse_settings
from mlops_platform.infra.tooling.offline import record
from mlops_platform.policies.iam_eval import Principal, Request, evaluate
from mlops_platform.policies.webhook_eval import (
    APPLIES_TO,
    PULL_REQUEST_EVENTS,
    GitHubEvent,
    UndocumentedFilter,
    admits,
)

from tests.config.test_bad_config import GOOD
from tests.conftest import STACKS, as_list, plan_for, policy, statements

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
MERGER, OUTSIDER = "1001", "2002"


def codebuild_model() -> dict:
    return Loader().load_service_model("codebuild", "service-2")


def filter_notes() -> dict[str, str]:
    """The API reference's text per filter type (the `<li>` after each type's name)."""
    doc = codebuild_model()["shapes"]["WebhookFilter"]["members"]["type"]["documentation"]
    text = re.sub(r"<[^>]+>", " ", doc)
    kinds = "|".join(sorted(APPLIES_TO, key=len, reverse=True))
    parts = re.split(rf"\s({kinds})\s+(?=A webhook)", text)
    return {parts[i]: " ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2)}


def test_the_filter_table_is_the_one_aws_documents():
    enum = set(codebuild_model()["shapes"]["WebhookFilterType"]["enum"])
    assert enum == {"EVENT", *APPLIES_TO}  # every type AWS has is classified, none invented
    notes = filter_notes()
    assert "Works with WORKFLOW_JOB_QUEUED events only" in notes["WORKFLOW_NAME"]
    # No branch filter for workflow jobs: HEAD_REF is documented for push and pull request events, BASE_REF for
    # pull requests only, so CodeBuild cannot limit the runner to jobs of main.
    assert "push" in notes["HEAD_REF"] and "pull request" in notes["HEAD_REF"]
    assert "WORKFLOW_JOB" not in notes["HEAD_REF"] and "WORKFLOW_JOB" not in notes["BASE_REF"]
    assert "pull request events only" in notes["BASE_REF"]
    assert "global or organization webhooks only" in notes["REPOSITORY_NAME"]
    assert "Works with" not in notes["ACTOR_ACCOUNT_ID"]  # the sender filter applies to every event


def job(workflow: str, sender: str = MERGER) -> GitHubEvent:
    return GitHubEvent("WORKFLOW_JOB_QUEUED", actor_account_id=sender, workflow_name=workflow)


def planned_groups(stack: str) -> list[dict]:
    return plan_for(stack).get("aws:codebuild/webhook:Webhook", "ci-runner-webhook").inputs["filterGroups"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_stacks_runner_starts_only_for_queued_deploy_and_drift_jobs(stack):
    groups = planned_groups(stack)
    assert admits(groups, job("Deploy")) and admits(groups, job("Drift"))
    for other in ("PR preview", "Checks", "PR preview comment", "deploy", "Deploy ", "Deploy|Drift"):
        assert not admits(groups, job(other)), other
    # Pull request, push and release events never start a build, whatever their branch.
    for event in (*PULL_REQUEST_EVENTS, "PUSH", "RELEASED"):
        shaped = GitHubEvent(event, MERGER, head_ref="refs/heads/attack", base_ref="refs/heads/main")
        assert not admits(groups, shaped), event


@pytest.mark.parametrize("stack", STACKS)
def test_the_planned_filters_are_ones_aws_documents_for_workflow_jobs(stack):
    for group in planned_groups(stack):
        for flt in group["filters"]:
            assert flt["type"] == "EVENT" or "WORKFLOW_JOB_QUEUED" in APPLIES_TO[flt["type"]], flt


def test_a_branch_filter_on_workflow_jobs_is_refused_as_undocumented():
    groups = [{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                           {"type": "HEAD_REF", "pattern": "^refs/heads/main$"}]}]  # fmt: skip
    with pytest.raises(UndocumentedFilter, match="HEAD_REF is not documented for WORKFLOW_JOB_QUEUED"):
        admits(groups, job("Deploy"))


def test_exclude_matched_pattern_inverts_a_filter_and_groups_are_ored():
    groups = [
        {"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                     {"type": "WORKFLOW_NAME", "pattern": "^PR", "excludeMatchedPattern": True}]},
        {"filters": [{"type": "EVENT", "pattern": "PUSH"}]},
    ]  # fmt: skip
    assert admits(groups, job("Deploy")) and not admits(groups, job("PR preview"))
    assert admits(groups, GitHubEvent("PUSH", OUTSIDER))


def test_the_workflow_name_is_not_a_trust_boundary_without_an_actor_filter():
    """The residual risk the finding describes, pinned: a pull request's job of a workflow it named "Deploy" looks
    exactly like the real deploy to CodeBuild. Hence the runner role below holds nothing."""
    groups = [{"filters": webhook_filters(["Deploy", "Drift"])}]
    assert admits(groups, job("Deploy", sender=OUTSIDER))


def test_actor_account_ids_admit_only_the_listed_senders():
    groups = [{"filters": webhook_filters(["Deploy", "Drift"], [MERGER, "77"])}]
    assert admits(groups, job("Deploy", MERGER)) and admits(groups, job("Drift", "77"))
    # A writer outside the list who names their pull request's workflow "Deploy" gets no runner; IDs are whole.
    for sender in (OUTSIDER, "10011", "7", "177"):
        assert not admits(groups, job("Deploy", sender)), sender


RUNNER_ARGS = {
    "project_name": "p-dev-ci-runner",
    "account_id": "123456789012",
    "region": "us-east-1",
    "repository": "org/repo",
    "connection_arn": "arn:aws:codeconnections:us-east-1:123456789012:connection/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "vpc_id": "vpc-1",
    "subnet_ids": ["subnet-a", "subnet-b"],
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k",
    "permissions_boundary_arn": "arn:aws:iam::123456789012:policy/p-dev-service-boundary",
    "workflows": ["Deploy", "Drift"],
    "actor_account_ids": [MERGER],
}


def test_the_component_plans_the_actor_filter_and_refuses_a_login_for_an_id():
    plan = record(lambda: GitHubRunner("runner", RUNNER_ARGS) and None)
    groups = plan.get("aws:codebuild/webhook:Webhook", "runner-webhook").inputs["filterGroups"]
    assert admits(groups, job("Deploy", MERGER)) and not admits(groups, job("Deploy", OUTSIDER))
    with pytest.raises(ValueError, match=r"actor_account_ids\[0\]='octocat'"):
        GitHubRunner("bad", {**RUNNER_ARGS, "actor_account_ids": ["octocat"]})


def test_the_stack_config_takes_actor_ids_and_names_the_key_of_a_bad_one():
    config = copy.deepcopy(GOOD)
    config["ci_runner"] = {"connection_arn": RUNNER_ARGS["connection_arn"], "actor_account_ids": ["1001"]}
    assert parse_settings(config).ci_runner.actor_account_ids == ["1001"]
    config["ci_runner"]["actor_account_ids"] = ["octocat"]
    with pytest.raises(ConfigError, match=r"mlops-platform:ci_runner\.actor_account_ids\.0 = 'octocat'"):
        parse_settings(config)


RUNNER_NEEDS = {
    "logs:CreateLogStream", "logs:PutLogEvents",  # its own log group
    "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",  # CodeBuild's documented VPC permissions
    "codeconnections:GetConnectionToken", "codeconnections:GetConnection",  # CodeBuild's documented connection rights
    "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",  # build data, through S3 only
}  # fmt: skip
"""What the runner's service role needs (CodeBuild user guide: VPC support, GitHub App connections)."""


def runner(stack: str) -> tuple[Principal, list[str]]:
    plan = plan_for(stack)
    role = plan.get("aws:iam/role:Role", "ci-runner-role").inputs
    document = policy(plan.get("aws:iam/rolePolicy:RolePolicy", "ci-runner-policy"))
    arn = f"arn:aws:iam::{role['permissionsBoundary'].split(':')[4]}:role/{role['name']}"
    subnets = plan.get("aws:codebuild/project:Project", "ci-runner-project").inputs["vpcConfig"]["subnets"]
    return Principal(arn, [document]), subnets


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_role_grants_only_what_the_runner_needs(stack):
    principal, _ = runner(stack)
    actions = {a for s in statements(principal.policies[0]) for a in as_list(s["Action"])}
    assert actions == RUNNER_NEEDS
    assert all(s["Effect"] == "Allow" and "NotAction" not in s and "NotResource" not in s
               for s in statements(principal.policies[0]))  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_the_runner_role_manages_network_interfaces_only_in_its_own_subnets(stack):
    principal, subnets = runner(stack)
    account, region = principal.account, "us-east-1"
    ec2 = f"arn:aws:ec2:{region}:{account}"

    def decide(action: str, resource: str, **context) -> bool:
        return evaluate(principal, Request(principal.arn, action, resource, context)).decision.allowed

    own, foreign = f"{ec2}:subnet/{subnets[0]}", f"{ec2}:subnet/subnet-0foreign"
    assert decide("ec2:CreateNetworkInterface", own) and not decide("ec2:CreateNetworkInterface", foreign)
    assert not decide("ec2:CreateNetworkInterface", f"{ec2}:security-group/sg-0cluster")
    assert decide("ec2:DeleteNetworkInterface", f"{ec2}:network-interface/eni-1", **{"ec2:Subnet": own})
    assert not decide("ec2:DeleteNetworkInterface", f"{ec2}:network-interface/eni-2", **{"ec2:Subnet": foreign})
    codebuild = {"ec2:AuthorizedService": "codebuild.amazonaws.com"}
    assert decide("ec2:CreateNetworkInterfacePermission", f"{ec2}:network-interface/eni-1",
                  **codebuild, **{"ec2:Subnet": own})  # fmt: skip
    assert not decide("ec2:CreateNetworkInterfacePermission", f"{ec2}:network-interface/eni-1",
                      **codebuild, **{"ec2:Subnet": foreign})  # fmt: skip


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_every_job_on_the_vpc_runner_runs_only_on_main_and_gets_aws_rights_only_through_oidc():
    names = set(parse_settings(copy.deepcopy(GOOD) | {"ci_runner": {"connection_arn": RUNNER_ARGS["connection_arn"]}})
                .ci_runner.workflows)  # fmt: skip
    on_runner = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        workflow = yaml.safe_load(path.read_text())
        triggers = set(workflow.get(True, workflow.get("on")) or ())
        assert "pull_request_target" not in triggers, path.name  # PR code never runs with the base's secrets
        for job_id, job_def in workflow["jobs"].items():
            if "codebuild-" not in str(job_def.get("runs-on", "")):
                continue
            on_runner.append(path.name)
            assert "pull_request" not in triggers, path.name
            assert job_def.get("if") == "github.ref == 'refs/heads/main'", (path.name, job_id)
            assert job_def["permissions"].get("id-token") == "write"
            steps = [s for s in job_def["steps"] if "aws-actions/configure-aws-credentials" in s.get("uses", "")]
            assert [s["with"]["role-to-assume"].startswith("${{ ") for s in steps] == [True], (path.name, job_id)
    assert sorted(on_runner) == ["drift.yml", "pulumi-up.yml"]
    # pulumi-up.yml is called by deploy.yml: the queued job carries the caller's workflow name.
    assert {load("drift.yml")["name"], load("deploy.yml")["name"]} <= names
    assert load("pulumi-up.yml")["jobs"]["up"]["environment"] == {"name": "${{ inputs.stack }}"}
