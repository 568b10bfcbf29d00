"""One state space per environment: each stack's CI roles reach only their own prefix of the state bucket and
their own secrets key, on both sides of the cross-account boundary (the roles' policies in the stack plans, the
bucket and key policies in the bootstrap plan). A request is allowed only if both sides allow it."""

from __future__ import annotations

import copy
import fnmatch
import json

import pytest
import yaml
from mlops_platform.infra.config import ConfigError, parse_settings

from tests.bootstrap_plan import bootstrap_plan, bootstrap_settings
from tests.config.test_bad_config import GOOD
from tests.conftest import REPO, STACKS, as_list, plan_for, policy, statements

CI_ROLES = ("ci-deployer", "ci-previewer")
STATE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def access_config(stack: str) -> dict:
    return yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]["mlops-platform:access"]


def role_statements(stack: str, persona: str) -> list[dict]:
    plan = plan_for(stack)
    return statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", f"personas-{persona}-policy")))


def identity_allows(stack: str, persona: str, action: str, resource: str) -> bool:
    """Whether the role's inline policy allows `action` on `resource` (Allow statements, wildcards as IAM
    matches them; conditions ignored, which only widens what this finds)."""
    for statement in role_statements(stack, persona):
        if statement["Effect"] != "Allow":
            continue
        if any(fnmatch.fnmatchcase(action, a) for a in as_list(statement["Action"])) and any(
            fnmatch.fnmatchcase(resource, r) for r in as_list(statement["Resource"])
        ):
            return True
    return False


def test_an_alias_arn_is_refused_with_the_reason():
    config = copy.deepcopy(GOOD)
    config["access"]["secrets_key_arn"] = "arn:aws:kms:eu-west-1:012345678901:alias/pulumi-secrets"
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert "access.secrets_key_arn = 'arn:aws:kms:eu-west-1:012345678901:alias/pulumi-secrets'" in message
    assert "IAM does not match a KMS key by its alias ARN" in message and "key/<key-id>" in message


def test_a_key_arn_is_accepted():
    config = copy.deepcopy(GOOD)
    config["access"]["secrets_key_arn"] = "arn:aws:kms:eu-west-1:012345678901:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert parse_settings(config).access.secrets_key_arn.endswith(":key/1234abcd-12ab-34cd-56ef-1234567890ab")


@pytest.mark.parametrize("stack", STACKS)
def test_ci_roles_reach_only_their_own_state_prefix(stack):
    bucket = access_config(stack)["state_bucket"]
    own = f"arn:aws:s3:::{bucket}/{stack}/.pulumi/stacks/mlops-platform/{stack}.json"
    assert identity_allows(stack, "ci-deployer", "s3:PutObject", own)
    assert identity_allows(stack, "ci-previewer", "s3:GetObject", own)
    assert not identity_allows(stack, "ci-previewer", "s3:PutObject", own)  # only its lock files
    for other in set(STACKS) - {stack}:
        theirs = f"arn:aws:s3:::{bucket}/{other}/.pulumi/stacks/mlops-platform/{other}.json"
        for persona in CI_ROLES:
            for action in STATE_ACTIONS:
                assert not identity_allows(stack, persona, action, theirs), (persona, action, other)


@pytest.mark.parametrize("stack", STACKS)
def test_listing_the_state_bucket_is_limited_to_the_own_prefix(stack):
    for persona in CI_ROLES:
        listing = [s for s in role_statements(stack, persona) if s["Action"] == "s3:ListBucket"
                   and "pulumi-state" in str(s["Resource"])]  # fmt: skip
        assert [s["Condition"] for s in listing] == [{"StringLike": {"s3:prefix": [stack, f"{stack}/*"]}}]


@pytest.mark.parametrize("stack", STACKS)
def test_ci_roles_use_only_their_own_secrets_key(stack):
    keys = {env: access_config(env)["secrets_key_arn"] for env in STACKS}
    assert len(set(keys.values())) == len(STACKS)  # one key per environment
    for persona in CI_ROLES:
        resources = {r for s in role_statements(stack, persona) for r in as_list(s["Resource"])}
        assert keys[stack] in resources
        assert not (set(keys.values()) - {keys[stack]}) & resources


def test_stack_files_use_the_bootstrap_outputs():
    outputs = bootstrap_plan().outputs
    for stack in STACKS:
        access = access_config(stack)
        assert access["state_bucket"] == outputs["state_bucket"]
        assert access["state_key_arn"] == outputs["state_key_arn"]
        assert access["secrets_key_arn"] == outputs["secrets_key_arns"][stack]


def _bucket_policy_allows(principal: str, action: str, resource: str) -> bool:
    plan = bootstrap_plan()
    bucket = plan.get("aws:s3/bucketPolicy:BucketPolicy", "state-policy")
    for statement in statements(json.loads(bucket.inputs["policy"])):
        if statement["Effect"] != "Allow":
            continue
        arns = statement.get("Condition", {}).get("ArnEquals", {}).get("aws:PrincipalArn", [])
        if (
            principal in arns
            and action in as_list(statement["Action"])
            and any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement["Resource"]))
        ):
            return True
    return False


@pytest.mark.parametrize("stack", STACKS)
def test_the_state_bucket_policy_grants_each_environment_only_its_prefix(stack):
    settings = bootstrap_settings()
    bucket = bootstrap_plan().outputs["state_bucket"]
    env = next(e for e in settings.environments if e.name == stack)
    deployer = f"arn:aws:iam::{env.account}:role/mlops-platform-{stack}-ci-deployer"
    previewer = f"arn:aws:iam::{env.account}:role/mlops-platform-{stack}-ci-previewer"
    own = f"arn:aws:s3:::{bucket}/{stack}/.pulumi/stacks/mlops-platform/{stack}.json"
    assert _bucket_policy_allows(deployer, "s3:PutObject", own)
    assert _bucket_policy_allows(previewer, "s3:GetObject", own)
    assert not _bucket_policy_allows(previewer, "s3:PutObject", own)
    # Previews take no lock (Pulumi's DIY backend locks only up/refresh/destroy/import): a pull request's preview
    # cannot leave a lock that blocks the environment's deploys.
    assert not _bucket_policy_allows(previewer, "s3:PutObject", f"arn:aws:s3:::{bucket}/{stack}/.pulumi/locks/x.json")
    for other in set(STACKS) - {stack}:
        theirs = f"arn:aws:s3:::{bucket}/{other}/.pulumi/stacks/mlops-platform/{other}.json"
        for role in (deployer, previewer):
            for action in STATE_ACTIONS:
                assert not _bucket_policy_allows(role, action, theirs), (role, action, other)


@pytest.mark.parametrize("stack", STACKS)
def test_each_secrets_key_policy_names_only_its_environments_roles(stack):
    plan = bootstrap_plan()
    mine = json.dumps(json.loads(plan.get("aws:kms/key:Key", f"secrets-{stack}-key").inputs["policy"]))
    assert f"mlops-platform-{stack}-ci-deployer" in mine and f"mlops-platform-{stack}-ci-previewer" in mine
    for other in set(STACKS) - {stack}:
        assert f"mlops-platform-{other}-" not in mine
    decrypt_only = next(
        s for s in statements(json.loads(mine)) if s["Sid"] == "DecryptStackSecrets"
    )  # the previewer cannot encrypt: it can't write a secret into the stack
    assert decrypt_only["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
