"""EncryptionKey: rotation, deletion window and a key policy that separates administration from use."""

from __future__ import annotations

import pytest

from components.encryption import ADMIN_ACTIONS, EncryptionKey
from infra.offline import record
from tests.conftest import policy, statements

ROLE = "arn:aws:iam::123456789012:role/p-dev-training"


def key_plan(**args):
    return record(lambda: EncryptionKey("k", {"account_id": "123456789012", **args}) and None)


def test_rotation_on_and_thirty_day_window_by_default():
    key = key_plan().get("aws:kms/key:Key", "k-key").inputs
    assert key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30


def test_root_administers_but_cannot_use_the_key():
    doc = policy(key_plan().get("aws:kms/key:Key", "k-key"))
    [admin] = [s for s in statements(doc) if s["Sid"] == "KeyAdministrationByAccount"]
    assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert admin["Action"] == ADMIN_ACTIONS
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*"} & set(admin["Action"])
    assert [s["Sid"] for s in statements(doc)] == ["KeyAdministrationByAccount"]  # no user, no use


def test_only_listed_roles_and_services_may_use_the_key():
    doc = policy(
        key_plan(user_role_arns=[ROLE], service_principals=["logs.us-east-1.amazonaws.com"]).get(
            "aws:kms/key:Key", "k-key"
        )
    )
    by_sid = {s["Sid"]: s for s in statements(doc)}
    assert by_sid["KeyUseByPlatformRoles"]["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [ROLE]}}
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
        EncryptionKey("k", {"account_id": "123456789012", "deletion_window_days": window})
