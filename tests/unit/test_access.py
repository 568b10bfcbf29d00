"""PersonaRoles: trust per persona, policies scoped to env buckets/prefixes/key, boundary caps them all."""

from __future__ import annotations

import fnmatch

import pytest
from mlops_platform.components.access import (
    BUCKET_GRANTS,
    PREVIEW_READ_ACTIONS,
    Access,
    GitHubTrust,
    Persona,
    PersonaRoles,
    persona_statements,
)
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
BUCKETS = {zone: f"arn:aws:s3:::p-dev-{zone}" for zone in ("raw", "curated", "features", "artifacts")}
ARGS = {
    "name_prefix": "p-dev",
    "account_id": "123456789012",
    "region": "us-east-1",
    "kms_key_arn": KEY,
    "bucket_arns": BUCKETS,
    "principal_arns": {
        Persona.DATA_SCIENTIST: ["arn:aws:iam::123456789012:role/SSO-DataScience"],
        Persona.ML_ENGINEER: ["arn:aws:iam::123456789012:role/SSO-MLEngineer"],
        Persona.MODEL_APPROVER: ["arn:aws:iam::123456789012:role/SSO-ModelApprover"],
    },
    "github": GitHubTrust(
        subject="repo:org/repo:environment:prod",
        preview_subjects=("repo:org/repo:pull_request",),
        drift_subjects=("repo:org/repo:ref:refs/heads/main",),
    ),
    "state_bucket": "state",
}
WRITE_ACTIONS = {"s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"}


@pytest.fixture(scope="module")
def plan():
    return record(lambda: PersonaRoles("personas", ARGS) and None)


def role_policy(plan, persona: Persona) -> list[dict]:
    return statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", f"personas-{persona.value}-policy")))


def deploy_policy(plan) -> list[dict]:
    return statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ci-deployer-deploy-policy")))


def trust(plan, persona: Persona) -> list[dict]:
    return statements(policy(plan.get("aws:iam/role:Role", f"personas-{persona.value}"), "assumeRolePolicy"))


def test_every_role_has_a_boundary_and_the_ci_and_approver_roles_their_own(plan):
    roles = {r.inputs["name"]: r.inputs["permissionsBoundary"] for r in plan.of_type("aws:iam/role:Role")}
    assert set(roles) == {f"p-dev-{p.value}" for p in Persona}
    assert roles.pop("p-dev-ci-deployer").endswith(":policy/p-dev-deployer-boundary")
    # The previewer is assumable by every same-repository pull request: never under the deployer's ceiling; nor is
    # the drift reader, which holds the cluster's read access.
    assert roles.pop("p-dev-ci-previewer").endswith(":policy/p-dev-previewer-boundary")
    assert roles.pop("p-dev-ci-drift").endswith(":policy/p-dev-drift-boundary")
    assert roles.pop("p-dev-model-approver").endswith(":policy/p-dev-approver-boundary")
    assert set(roles.values()) == {"arn:aws:iam::123456789012:policy/p-dev-persona-boundary"}


@pytest.mark.parametrize("persona", list(Persona))
def test_no_wildcard_action_and_writes_only_on_granted_prefixes(plan, persona):
    writable = [f"{BUCKETS[g.zone]}/{g.prefix}*" for g in BUCKET_GRANTS[persona] if g.access is Access.WRITE]
    if persona is Persona.CI_DEPLOYER:
        writable.append("arn:aws:s3:::state/dev/.pulumi/*")  # its environment's prefix only
    for statement in role_policy(plan, persona):
        actions = as_list(statement["Action"])
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement
        if WRITE_ACTIONS & set(actions):
            assert all(r in writable for r in as_list(statement["Resource"])), statement


def test_data_scientist_reads_raw_but_writes_only_sandbox_and_experiments(plan):
    writes = [
        s["Resource"] for s in role_policy(plan, Persona.DATA_SCIENTIST) if "s3:PutObject" in as_list(s["Action"])
    ]
    assert sorted(writes) == [f"{BUCKETS['artifacts']}/experiments/*", f"{BUCKETS['features']}/sandbox/*"]


def test_prefix_listing_is_conditioned_on_the_prefix(plan):
    listing = [s for s in role_policy(plan, Persona.INFERENCE) if s["Action"] == "s3:ListBucket"]
    assert {tuple(s["Condition"]["StringLike"]["s3:prefix"]) for s in listing} == {("models/*",), ("data-capture/*",)}


def test_key_use_is_through_s3_only_for_humans(plan):
    [key_use] = [s for s in role_policy(plan, Persona.DATA_SCIENTIST) if s["Resource"] == KEY]
    assert key_use["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}


def test_trust_is_pinned_per_persona(plan):
    [ci] = trust(plan, Persona.CI_DEPLOYER)
    assert ci["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert ci["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:org/repo:environment:prod",
    }
    services = {s["Principal"]["Service"] for s in trust(plan, Persona.TRAINING)}
    assert services == {"sagemaker.amazonaws.com"}  # pods use per-team roles, not this one
    assert all(
        s["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}} for s in trust(plan, Persona.TRAINING)
    )
    for persona in (Persona.DATA_SCIENTIST, Persona.ML_ENGINEER, Persona.MODEL_APPROVER):
        [human] = trust(plan, persona)  # each persona trusts its own list only
        assert human["Principal"] == {"AWS": ARGS["principal_arns"][persona]}


def test_pull_requests_assume_the_previewer_and_only_the_default_branch_the_drift_reader(plan):
    # The drift reader holds the cluster's read access (Helm's release records): a pull request's token, whatever
    # workflow file it edits, says `pull_request` and must not reach it.
    def subjects(persona: Persona) -> set[str]:
        return {
            subject
            for statement in trust(plan, persona)
            for test in statement["Condition"].values()
            for subject in as_list(test.get("token.actions.githubusercontent.com:sub", []))
        }

    assert subjects(Persona.CI_PREVIEWER) == {"repo:org/repo:pull_request"}
    assert subjects(Persona.CI_DRIFT) == {"repo:org/repo:ref:refs/heads/main"}


@pytest.mark.parametrize("persona", list(Persona))
def test_boundary_contains_every_allow_of_the_role(plan, persona):
    own = {Persona.CI_DEPLOYER: "deployer", Persona.CI_PREVIEWER: "previewer", Persona.CI_DRIFT: "drift",
           Persona.MODEL_APPROVER: "approver"}  # fmt: skip
    name = f"personas-{own[persona]}-boundary" if persona in own else "personas-boundary"
    allows = [s for s in statements(policy(plan.get("aws:iam/policy:Policy", name))) if s["Effect"] == "Allow"]

    def covered(action: str, resource: str) -> bool:
        return any(
            any(fnmatch.fnmatch(action, a) for a in as_list(s["Action"]))
            and any(fnmatch.fnmatch(resource, r) for r in as_list(s["Resource"]))
            for s in allows
        )

    policies = role_policy(plan, persona)
    if persona is Persona.CI_DEPLOYER:
        policies += [s for s in deploy_policy(plan) if s["Effect"] == "Allow"]
    for statement in policies:
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                assert covered(action, resource), (persona, action, resource)


def test_boundary_fits_the_managed_policy_size_limit(plan):
    document = plan.get("aws:iam/policy:Policy", "personas-boundary").inputs["policy"]
    assert len("".join(document.split())) <= 6144


def test_github_oidc_provider_is_created_only_when_not_given():
    assert record(lambda: PersonaRoles("personas", ARGS) and None).of_type(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
    )
    existing = {
        **ARGS,
        "github": GitHubTrust("repo:o/r:ref:refs/heads/main", "arn:aws:iam::123456789012:oidc-provider/x"),
    }
    assert not record(lambda: PersonaRoles("personas", existing) and None).of_type(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
    )


def test_ci_deployer_reaches_the_pulumi_backend():
    sids = {s["Sid"] for s in persona_statements(Persona.CI_DEPLOYER, ARGS)}
    assert {"PulumiStateObjects", "PulumiStateList"} <= sids


def test_missing_bucket_zone_is_refused_before_registration():
    args = {**ARGS, "bucket_arns": {"raw": BUCKETS["raw"]}}
    with pytest.raises(ValueError, match="bucket_arns lacks zone\\(s\\) artifacts, curated, features"):
        PersonaRoles("personas", args)


def test_deployer_creates_roles_only_with_a_boundary(plan):
    by_sid = {s["Sid"]: s for s in deploy_policy(plan)}
    create = by_sid["CreateRolesOnlyWithBoundary"]
    assert "iam:CreateRole" in create["Action"] and create["Resource"] == "arn:aws:iam::123456789012:role/p-dev-*"
    assert set(create["Condition"]) == {"StringEquals"}
    assert set(create["Condition"]["StringEquals"]) == {"iam:PermissionsBoundary"}
    creating = [
        s["Sid"] for s in deploy_policy(plan) if s["Effect"] == "Allow" and "iam:CreateRole" in as_list(s["Action"])
    ]
    assert creating == ["CreateRolesOnlyWithBoundary"]


def test_deployer_cannot_widen_itself_or_the_boundaries(plan):
    deny = next(s for s in deploy_policy(plan) if s["Sid"] == "DenyProtectedRolesAndPolicies")
    assert {"iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:CreatePolicyVersion"} <= set(deny["Action"])
    assert set(deny["Resource"]) == {
        "arn:aws:iam::123456789012:role/p-dev-ci-deployer",
        "arn:aws:iam::123456789012:role/p-dev-ci-previewer",
        "arn:aws:iam::123456789012:role/p-dev-ci-drift",
        "arn:aws:iam::123456789012:role/p-dev-model-approver",
        "arn:aws:iam::123456789012:policy/p-dev-persona-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-service-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-previewer-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-drift-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-approver-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-deployer-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-deploy-*",
    }
    boundary = statements(policy(plan.get("aws:iam/policy:Policy", "personas-deployer-boundary")))
    assert deny in boundary  # the ceiling repeats the denies, so a wider inline policy would not help


def test_deployer_allows_no_wildcard_action_and_scopes_writes_by_prefix_or_tag(plan):
    for statement in (s for s in deploy_policy(plan) if s["Effect"] == "Allow"):
        assert not any(a == "*" or a.endswith(":*") for a in as_list(statement["Action"])), statement["Sid"]
        if statement["Resource"] == "*":
            writes = [
                a for a in as_list(statement["Action"]) if not a.split(":")[1].startswith(("List", "Get", "Describe"))
            ]
            assert not writes or "Condition" in statement, statement["Sid"]


def test_deployer_manages_keys_only_with_the_env_tag(plan):
    by_sid = {s["Sid"]: s for s in deploy_policy(plan)}
    assert by_sid["CreateEnvKeys"]["Condition"] == {"StringEquals": {"aws:RequestTag/env": "dev"}}
    assert by_sid["ManageEnvKeys"]["Condition"] == {"StringEquals": {"aws:ResourceTag/env": "dev"}}


def test_service_role_boundary_lets_services_through_but_no_identity_writes_or_data():
    from mlops_platform.components.boundaries import ServiceRoleBoundary

    plan = record(
        lambda: (
            ServiceRoleBoundary("svc", {"account_id": "123456789012", "region": "eu-west-1", "name_prefix": "p-dev"})
            and None
        )
    )
    document = policy(plan.get("aws:iam/policy:Policy", "svc-policy"))
    by_sid = {s["Sid"]: s for s in statements(document)}
    allowed = by_sid["ServicesInEnvRegion"]["Action"]
    assert "ec2:*" in allowed and "eks:*" in allowed
    assert not {"s3:*", "iam:*", "*"} & set(allowed)
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:CreateUser"} <= set(by_sid["DenyIdentityWrites"]["Action"])
    assert plan.get("aws:iam/policy:Policy", "svc-policy").inputs["name"] == "p-dev-service-boundary"


def test_service_role_boundary_refuses_iam_or_s3_as_a_service():
    from mlops_platform.components.boundaries import ServiceRoleBoundary

    with pytest.raises(ValueError, match="'iam' and 's3' are not allowed"):
        ServiceRoleBoundary(
            "svc", {"account_id": "123456789012", "region": "eu-west-1", "name_prefix": "p", "services": ["s3"]}
        )


def test_deployer_may_attach_either_boundary_and_not_edit_them(plan):
    create = next(s for s in deploy_policy(plan) if s["Sid"] == "CreateRolesOnlyWithBoundary")
    assert create["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == [
        "arn:aws:iam::123456789012:policy/p-dev-persona-boundary",
        "arn:aws:iam::123456789012:policy/p-dev-service-boundary",
    ]
    deny = next(s for s in deploy_policy(plan) if s["Sid"] == "DenyProtectedRolesAndPolicies")
    assert "arn:aws:iam::123456789012:policy/p-dev-service-boundary" in deny["Resource"]


def test_deployer_capability_policies_are_attached_managed_policies():
    extra = [{"Sid": "X", "Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*"}]
    plan = record(lambda: PersonaRoles("personas", {**ARGS, "deployer_policies": {"network": extra}}) and None)
    managed = plan.get("aws:iam/policy:Policy", "personas-deploy-network")
    assert managed.inputs["name"] == "p-dev-deploy-network"
    assert statements(policy(managed)) == extra
    attachment = plan.get("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "personas-deploy-network-attachment")
    assert attachment.inputs["role"] == "p-dev-ci-deployer"
    assert attachment.inputs["policyArn"].endswith(":policy/p-dev-deploy-network")


@pytest.mark.parametrize("persona", [Persona.CI_PREVIEWER, Persona.CI_DRIFT])
def test_ci_readers_read_configuration_and_the_uploaded_code_but_no_data(plan, persona):
    statements_ = role_policy(plan, persona)
    actions = {a for s in statements_ for a in as_list(s["Action"])}
    assert set(PREVIEW_READ_ACTIONS) <= actions
    assert not {"s3:GetObject*", "logs:GetLogEvents", "ecr:BatchGetImage", "kms:Decrypt"} & set(PREVIEW_READ_ACTIONS)
    # Refresh reads back the pipeline scripts the stack uploads (text bodies): code/ of the artifacts bucket, and
    # nothing else of the lake.
    data = [r for s in statements_ for r in as_list(s["Resource"]) if any(b in str(r) for b in BUCKETS.values())]
    assert data == [f"{BUCKETS['artifacts']}/code/*"]
    [key_use] = [s for s in statements_ if s["Resource"] == KEY]
    assert key_use["Action"] == "kms:Decrypt"
    assert key_use["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
        "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": BUCKETS["artifacts"]},
    }


def test_ml_engineer_jobs_are_pinned_to_the_job_security_group_by_its_policy_not_the_boundary():
    """The pipelines' job security group narrows the ML engineer's own policy; the shared boundary, near IAM's
    6,144 characters, keeps the job statement without it (a ceiling may be wider than the identity policy)."""
    from mlops_platform.components._sagemaker_jobs import job_conditions, pipeline_operator_statements
    from mlops_platform.policies.iam_eval import Decision, Principal, Request, evaluate

    operator = pipeline_operator_statements(
        "123456789012", "us-east-1", "p-dev", "arn:aws:iam::123456789012:role/p-dev-training", KEY, ["sg-jobs"]
    )
    widened = record(
        lambda: PersonaRoles("personas", {**ARGS, "extra_statements": {Persona.ML_ENGINEER: operator}}) and None
    )
    # The same statements as before the pin: the job statement with the key, VPC and encryption conditions only.
    before = [{**s, "Condition": job_conditions(KEY)} if s["Sid"] == "RunJobsEncryptedInVpc" else s for s in operator]
    unpinned = record(
        lambda: PersonaRoles("personas", {**ARGS, "extra_statements": {Persona.ML_ENGINEER: before}}) and None
    )
    boundary = widened.get("aws:iam/policy:Policy", "personas-boundary").inputs["policy"]
    assert boundary == unpinned.get("aws:iam/policy:Policy", "personas-boundary").inputs["policy"]
    assert "VpcSecurityGroupIds" not in boundary

    engineer = Principal(
        "arn:aws:iam::123456789012:role/p-dev-ml-engineer",
        [policy(widened.get("aws:iam/rolePolicy:RolePolicy", "personas-ml-engineer-policy"))],
        policy(widened.get("aws:iam/policy:Policy", "personas-boundary")),
    )
    job = {"sagemaker:VolumeKmsKey": KEY, "sagemaker:OutputKmsKey": KEY, "sagemaker:VpcSubnets": ["subnet-a"],
           "sagemaker:InterContainerTrafficEncryption": True}  # fmt: skip

    def decision(**groups):
        request = Request(engineer.arn, "sagemaker:CreateTrainingJob",
                          "arn:aws:sagemaker:us-east-1:123456789012:training-job/x", {**job, **groups})  # fmt: skip
        return evaluate(engineer, request).decision

    key = "sagemaker:VpcSecurityGroupIds"
    assert decision(**{key: ["sg-jobs"]}) is Decision.ALLOW
    assert decision(**{key: ["sg-default"]}) is Decision.IMPLICIT_DENY
    assert decision(**{key: ["sg-jobs", "sg-default"]}) is Decision.IMPLICIT_DENY
    assert decision() is Decision.IMPLICIT_DENY  # ForAllValues over no groups would hold: the Null test refuses


def test_boundary_leaves_identity_only_denies_to_the_identity_policy():
    """A Deny on the job security group refuses from the ML engineer's own policy (an explicit deny wins over any
    allow); stripped of its condition in the boundary it would refuse every CreateModel of the pipeline roles."""
    from mlops_platform.components._sagemaker_jobs import model_network_denies

    denies = model_network_denies(["sg-jobs"])
    args = {**ARGS, "extra_statements": {Persona.ML_ENGINEER: denies}}
    plan = record(lambda: PersonaRoles("personas", args) and None)
    assert all(d in role_policy(plan, Persona.ML_ENGINEER) for d in denies)
    boundary = statements(policy(plan.get("aws:iam/policy:Policy", "personas-boundary")))
    assert not [s for s in boundary if "sagemaker:CreateModel" in as_list(s["Action"])]
