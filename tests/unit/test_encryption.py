"""EncryptionKey: rotation, deletion window and a key policy that separates administration from use."""

from __future__ import annotations

import pytest
from mlops_platform.components.encryption import ADMIN_ACTIONS, EncryptionKey
from mlops_platform.infra.tooling.offline import record

from tests.conftest import policy, statements

ROLE = "arn:aws:iam::123456789012:role/p-dev-training"
ADMIN = "arn:aws:iam::123456789012:role/p-dev-ci-deployer"


def key_plan(**args):
    return record(
        lambda: EncryptionKey("k", {"account_id": "123456789012", "administrator_role_arns": [ADMIN], **args}) and None
    )


def test_rotation_on_and_thirty_day_window_by_default():
    key = key_plan().get("aws:kms/key:Key", "k-key").inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30


def test_only_named_administrators_administer_and_they_cannot_use_or_grant_the_key():
    doc = policy(key_plan().get("aws:kms/key:Key", "k-key"))
    [admin] = [s for s in statements(doc) if s["Sid"] == "KeyAdministrationByNamedRoles"]
    # The account principal plus aws:PrincipalArn: recreating a deleted admin role restores access (no lockout),
    # while an IAM policy granting kms:* to anyone else does nothing on this key.
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert admin["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [ADMIN]}}
    assert admin["Action"] == ADMIN_ACTIONS
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant", "kms:*", "kms:Create*"} & set(admin["Action"])
    assert [s["Sid"] for s in statements(doc)] == ["KeyAdministrationByNamedRoles"]  # no user, no use
    assert all("Condition" in s for s in statements(doc))  # no blanket grant to the account


def test_a_key_without_administrators_is_refused():
    with pytest.raises(ValueError, match="administrator_role_arns is empty"):
        EncryptionKey("k", {"account_id": "123456789012", "administrator_role_arns": []})


def test_only_listed_roles_and_services_may_use_the_key():
    doc = policy(
        key_plan(user_role_arns=[ROLE], service_principals=["logs.us-east-1.amazonaws.com"]).get(
            "aws:kms/key:Key", "k-key"
        )
    )
    by_sid = {s["Sid"]: s for s in statements(doc)}
    assert by_sid["KeyUseByPlatformRolesThroughServices"]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [ROLE]}}
    assert by_sid["GrantsForAwsResourcesByPlatformRoles"]["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert "KeyUseByAwsServices" not in by_sid  # logs gets its own, narrower statement
    logs = by_sid["KeyUseByCloudWatchLogsUsEast1"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:123456789012:log-group:*"}
    }


def test_other_services_are_held_to_the_account_and_logs_to_its_log_groups():
    doc = policy(
        key_plan(service_principals=["logs.eu-west-1.amazonaws.com", "sagemaker.amazonaws.com"]).get(
            "aws:kms/key:Key", "k-key"
        )
    )
    by_sid = {s["Sid"]: s for s in statements(doc)}
    services = by_sid["KeyUseByAwsServices"]
    assert services["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    logs_condition = by_sid["KeyUseByCloudWatchLogsEuWest1"]["Condition"]["ArnLike"]
    assert logs_condition == {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}


@pytest.mark.parametrize("window", [6, 31])
def test_deletion_window_outside_7_to_30_days_is_refused(window):
    with pytest.raises(ValueError, match=f"deletion_window_days={window} must be between 7 and 30"):
        EncryptionKey(
            "k", {"account_id": "123456789012", "administrator_role_arns": [ADMIN], "deletion_window_days": window}
        )


def test_with_a_region_roles_use_the_key_only_through_aws_services():
    doc = policy(key_plan(user_role_arns=[ROLE], region="eu-west-1").get("aws:kms/key:Key", "k-key"))
    use = next(s for s in statements(doc) if s["Sid"] == "KeyUseByPlatformRolesThroughServices")
    assert "s3.eu-west-1.amazonaws.com" in use["Condition"]["StringEquals"]["kms:ViaService"]
    assert "kms:DescribeKey" not in use["Action"]  # metadata is a separate, unconditioned-by-service statement
