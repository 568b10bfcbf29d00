"""Building blocks usable without the platform: ExecutionRole, a SecureBucket that receives access logs,
tags through a provider, and Output-valued inputs."""

import json

import pulumi
import pulumi_aws as aws
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.roles import ExecutionRole
from mlops_platform.components.storage import SecureBucket
from mlops_platform.infra.tooling.offline import record

from tests.conftest import policy, statements

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/team-boundary"


def test_execution_role_trusts_one_service_for_one_account_under_a_boundary():
    read = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::team-data/*"}
    plan = record(
        lambda: (
            ExecutionRole(
                "jobs",
                {
                    "service": "sagemaker.amazonaws.com",
                    "account_id": ACCOUNT,
                    "permissions_boundary_arn": BOUNDARY,
                    "statements": [read],
                },
            )
            and None
        )
    )
    role = plan.get("aws:iam/role:Role", "jobs-role")
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert role.inputs["permissionsBoundary"] == BOUNDARY
    assert statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "jobs-policy"))) == [read]


def _log_bucket_plan():
    return record(
        lambda: (
            SecureBucket("logs", {"log_target": True, "log_source_account_id": ACCOUNT, "access_logging": False})
            and None
        )
    )


def test_log_target_grants_delivery_to_this_accounts_buckets_only_and_uses_sse_s3():
    plan = _log_bucket_plan()
    by_sid = {s["Sid"]: s for s in statements(policy(plan.get("aws:s3/bucketPolicy:BucketPolicy", "logs-policy")))}
    delivery = by_sid["AllowServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    sse = plan.get(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "logs-encryption"
    )
    # S3 server access logging cannot deliver to a bucket whose default encryption is SSE-KMS.
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert "DenyInsecureTransport" in by_sid


def test_a_plain_bucket_grants_no_log_delivery():
    plan = record(
        lambda: (
            SecureBucket("data", {"kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k", "access_log_bucket": "logs"})
            and None
        )
    )
    sids = {s["Sid"] for s in statements(policy(plan.get("aws:s3/bucketPolicy:BucketPolicy", "data-policy")))}
    assert "AllowServerAccessLogDelivery" not in sids


def test_key_users_may_be_outputs():
    """Roles created in the same program can be named by their `arn` Output: plain ARNs come first, sorted (a
    stable policy), then the Outputs in the order given; the metadata statement (which also lists the
    metadata-only readers) keeps them as well."""
    admin, previewer = f"arn:aws:iam::{ACCOUNT}:role/key-admin", f"arn:aws:iam::{ACCOUNT}:role/previewer"

    def program():
        roles = [pulumi.Output.from_input(f"arn:aws:iam::{ACCOUNT}:role/{n}") for n in ("b", "a")]
        EncryptionKey(
            "key",
            {
                "account_id": ACCOUNT,
                "administrator_role_arns": [admin],
                "metadata_reader_role_arns": [previewer],
                "user_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/z", *roles],
            },
        )

    by_sid = {s["Sid"]: s for s in statements(policy(record(program).get("aws:kms/key:Key", "key-key")))}
    users = [f"arn:aws:iam::{ACCOUNT}:role/{n}" for n in ("z", "b", "a")]
    assert by_sid["KeyUseByPlatformRolesThroughServices"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == users
    metadata = by_sid["KeyMetadataByPlatformRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert metadata == [previewer, *users]
    assert by_sid["KeyAdministrationByNamedRoles"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [admin]


def test_tags_through_a_provider_reach_every_aws_child():
    """The documented way to tag a component's resources (docs/components-multilanguage.md): an AWS provider
    with `default_tags`, passed to the component; every AWS child is created through it."""

    def program():
        tagged = aws.Provider("tagged", default_tags={"tags": {"team": "vision", "cost-center": "42"}})
        SecureBucket(
            "data",
            {"kms_key_arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k", "access_log_bucket": "logs"},
            pulumi.ResourceOptions(providers={"aws": tagged}),
        )

    plan = record(program)
    provider = plan.get("pulumi:providers:aws", "tagged")
    assert json.loads(provider.inputs["defaultTags"]) == {"tags": {"team": "vision", "cost-center": "42"}}
    children = [r for r in plan.resources if r.type.startswith("aws:")]
    assert children and all(r.provider == provider.name for r in children)
