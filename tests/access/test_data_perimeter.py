"""The organisation's data perimeter (`policies/organization`): a resource control policy AWS Organizations would
accept, in AWS's vocabulary, rendered from the stack files, and one that lets through every principal the platform's
own resource policies admit (CI's web identity, AWS services for the accounts, the other environments) while the
access matrix's perimeter rows show what it refuses."""

from __future__ import annotations

import json

import pytest
from mlops_platform.policies.access_matrix import ROWS, decide_row
from mlops_platform.policies.iam_eval import Request, rcp_denies
from mlops_platform.policies.organization import perimeter
from mlops_platform.policies.organization.__main__ import BOOTSTRAP_STACK, STACKS_DIR, main
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.all import get_all_service_prefixes

from tests.access.test_access_matrix import world_for
from tests.bootstrap_plan import bootstrap_plan
from tests.conftest import STACKS, plan_for

ORG = "o-a1b2c3d4e5"
FACTS = perimeter.stack_facts(STACKS_DIR, BOOTSTRAP_STACK)
RCP = perimeter.resource_control_policy(perimeter.Perimeter(org_id=ORG, github_repositories=FACTS.github_repositories))
GLOBAL_KEYS = {"aws:PrincipalOrgID", "aws:PrincipalIsAWSService", "aws:SourceOrgID", "aws:SourceAccount"}
"""The global condition keys the RCP reads (IAM User Guide, "AWS global condition context keys"; policy_sentry has
no copy of the global keys): the caller's organisation, whether it is an AWS service principal, and the account and
organisation a service acts for."""


def _listed(value):
    return value if isinstance(value, list) else [value]


def test_the_rcp_is_one_aws_organizations_accepts():
    assert perimeter.problems(RCP) == []
    assert len(perimeter.minified(RCP)) <= perimeter.RCP_MAX_CHARACTERS
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in RCP["Statement"])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda s: {**s, "Effect": "Allow"}, "may only Deny"),
        (lambda s: {**{k: v for k, v in s.items() if k != "Action"}, "NotAction": "s3:*"}, "NotAction"),
        (lambda s: {**s, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}, "Principal"),
        (lambda s: {**s, "Action": ["iam:CreateRole"]}, "iam:CreateRole is not an action of a service RCPs apply to"),
        (lambda s: {**s, "Action": [f"s3:GetObject{n}" for n in range(400)]}, "an RCP holds at most 5120"),
    ],
    ids=["allow", "not-action", "named-principal", "unsupported-service", "too-long"],
)
def test_what_aws_would_refuse_is_named(change, named):
    broken = {**RCP, "Statement": [change(RCP["Statement"][0]), *RCP["Statement"][1:]]}
    assert any(named in problem for problem in perimeter.problems(broken)), perimeter.problems(broken)


def test_more_repositories_than_one_rcp_holds_is_one_clear_error():
    many = perimeter.Perimeter(org_id=ORG, github_repositories=tuple(f"example-org/repository-{n}" for n in range(200)))
    with pytest.raises(ValueError, match=r"not a valid RCP: \d+ characters minified; an RCP holds at most 5120"):
        perimeter.render(many)


def test_every_action_is_one_aws_documents_for_a_service_rcps_apply_to():
    prefixes = set(get_all_service_prefixes())
    for statement in RCP["Statement"]:
        for action in _listed(statement["Action"]):
            service, _, name = action.partition(":")
            assert service in perimeter.RCP_SERVICES, action
            if name == "*":
                assert service in prefixes, action
            else:
                rows = get_action_data(service, name).get(service, [])
                assert any(r["action"].lower() == action.lower() for r in rows), f"{action} is not an AWS action"


def test_condition_keys_are_global_keys_or_the_github_subject_the_stacks_trust_on():
    trusted_keys = set()
    for stack in STACKS:
        for role in plan_for(stack).of_type("aws:iam/role:Role"):
            for statement in json.loads(role.inputs["assumeRolePolicy"])["Statement"]:
                for pairs in (statement.get("Condition") or {}).values():
                    trusted_keys.update(k for k in pairs if k.endswith(":sub"))
    used = {key for s in RCP["Statement"] for pairs in s["Condition"].values() for key in pairs}
    assert used - GLOBAL_KEYS == {f"{perimeter.GITHUB_OIDC}:sub"}
    assert trusted_keys == {f"{perimeter.GITHUB_OIDC}:sub"}  # the key IAM sets from the token, as the CI roles use


def test_the_checked_in_template_is_current():
    assert perimeter.TEMPLATE.read_text() == perimeter.template(FACTS), (
        "policies/organization/data-perimeter-rcp.json is stale: "
        "uv run python -m mlops_platform.policies.organization --template --write"
    )


def test_the_stack_files_name_every_repository_the_roles_trust_and_every_account_they_exchange_models_with():
    trusted = set().union(*(world_for(stack).repositories for stack in STACKS))
    assert trusted == set(FACTS.github_repositories) == {"example-org/mlops-platform"}
    assert set(FACTS.exchange_accounts) <= set(FACTS.accounts.values())  # promotion stays inside the organisation
    assert set(FACTS.accounts) == {"bootstrap", *STACKS}


def _resource_policies(plan):
    """(where, document) of every resource policy a plan registers."""
    for resource in plan.resources:
        text = resource.inputs.get("assumeRolePolicy") if resource.type == "aws:iam/role:Role" else None
        if text is None and resource.type in (
            "aws:s3/bucketPolicy:BucketPolicy", "aws:kms/key:Key", "aws:sqs/queuePolicy:QueuePolicy",
            "aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:sns/topicPolicy:TopicPolicy",
        ):  # fmt: skip
            text = resource.inputs.get("policy")
        if isinstance(text, str):
            yield resource.name, json.loads(text)


def _requests(statement, account):
    """The requests the statement admits, with the context AWS would give each kind of principal."""
    principal = statement.get("Principal") or {}
    actions = _listed(statement["Action"])
    for arn in _listed(principal.get("AWS", [])):
        caller_account = arn.split(":")[4]
        context = {"aws:PrincipalOrgID": ORG, "aws:PrincipalIsAWSService": False}
        yield "AWS", caller_account, [Request(arn, a, "*", context) for a in actions]
    for service in _listed(principal.get("Service", [])):
        with_source = {"aws:PrincipalIsAWSService": True, "aws:SourceAccount": account, "aws:SourceOrgID": ORG}
        without = {"aws:PrincipalIsAWSService": True}  # services using grants or passed roles set no source
        yield "Service", account, [Request(service, a, "*", c) for a in actions for c in (with_source, without)]
    if principal.get("Federated"):
        subjects = [
            subject.replace("*", "42")
            for pairs in (statement.get("Condition") or {}).values()
            for subject in _listed(pairs.get(f"{perimeter.GITHUB_OIDC}:sub", []))
        ]
        assert subjects, f"a federated trust without a GitHub subject: {statement}"
        claims = [{f"{perimeter.GITHUB_OIDC}:sub": s, f"{perimeter.GITHUB_OIDC}:aud": "sts.amazonaws.com"}
                  for s in subjects]  # fmt: skip
        yield "Federated", account, [Request(principal["Federated"], a, "*", c) for a in actions for c in claims]


def test_every_principal_the_platforms_resource_policies_admit_passes_the_perimeter():
    plans = [(plan_for(stack), FACTS.accounts[stack]) for stack in STACKS]
    plans.append((bootstrap_plan(), FACTS.accounts["bootstrap"]))
    members = set(FACTS.accounts.values())
    seen, refused = set(), []
    for plan, account in plans:
        for where, document in _resource_policies(plan):
            for statement in _listed(document["Statement"]):
                if statement["Effect"] != "Allow":
                    continue
                for kind, caller_account, requests in _requests(statement, account):
                    seen.add(kind)
                    if kind == "AWS" and caller_account not in members:
                        refused.append(f"{plan.stack}/{where}: {caller_account} is not an account of the stacks")
                    refused += [f"{plan.stack}/{where}: {r.principal_arn} {r.action} {denies}"
                                for r in requests if (denies := rcp_denies([RCP], r))]  # fmt: skip
    assert seen == {"AWS", "Service", "Federated"}
    assert refused == []


def test_a_web_identity_token_of_another_repository_or_provider_is_refused():
    def assume(claims):
        return rcp_denies([RCP], Request("arn:aws:iam::111111111111:oidc-provider/x", "sts:AssumeRoleWithWebIdentity",
                                         "*", claims))  # fmt: skip

    sub = f"{perimeter.GITHUB_OIDC}:sub"
    assert assume({sub: "repo:example-org/mlops-platform:environment:prod"}) == []
    assert assume({sub: "repo:example-org/mlops-platform-fork:environment:prod"}) != []
    assert assume({sub: "repository_owner:example-org"}) != []  # a template that does not start with repo
    assert assume({"cognito-identity.amazonaws.com:sub": "eu-west-1:x"}) != []


IN_ORGANISATION = [
    (stack, row) for row in ROWS for stack in STACKS
    if stack in row.stacks and not row.rcp and not row.principal.startswith(("foreign:", "github:"))
]  # fmt: skip


@pytest.mark.parametrize(("stack", "row"), IN_ORGANISATION, ids=[f"{r.id}-{s}" for s, r in IN_ORGANISATION])
def test_the_perimeter_changes_no_decision_inside_the_organisation(stack, row):
    assert decide_row(world_for(stack), row, perimeter=True) is decide_row(world_for(stack), row, perimeter=False)


def test_the_command_line_renders_for_an_organisation_and_says_where_to_attach(tmp_path, capsys):
    out = tmp_path / "rcp.json"
    assert main(["--org-id", ORG, "--output", str(out)]) == 0
    assert json.loads(out.read_text()) == RCP
    report = capsys.readouterr().err
    assert "of 5120 characters" in report and "111111111111" in report and "444444444444" in report
    assert "aws organizations attach-policy" in report and f"file://{out}" in report


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--org-id", "o-xxxxxxxxxx"], "--org-id 'o-xxxxxxxxxx' is the template's placeholder"),
        (["--org-id", "123456789012"], "--org-id '123456789012': not accepted; expected an organisation ID"),
        (["--org-id", ORG, "--github-repository", "not a repo"], "--github-repository 'not a repo': not accepted"),
        ([], "--org-id is required"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_without_stack_files_the_repositories_must_be_named(tmp_path, capsys):
    assert main(["--org-id", ORG, "--stacks-dir", str(tmp_path)]) == 2
    assert "--github-repository: none given" in capsys.readouterr().err
    assert main(["--org-id", ORG, "--stacks-dir", str(tmp_path), "--github-repository", "acme/infra"]) == 0
    assert "repo:acme/infra:*" in capsys.readouterr().out
