"""The governance components at their edge: bad arguments are refused before anything is registered, with the
argument, the value and what is accepted; the policy documents they build say what the platform relies on."""

from __future__ import annotations

import pulumi_aws as aws
import pytest
from mlops_platform.components.audit import (
    AuditTrail,
    audit_bucket_statements,
    cloudtrail_key_statements,
    event_selectors,
)
from mlops_platform.components.features import (
    Feature,
    FeatureGroupSpec,
    FeatureStage,
    FeatureStore,
    FeatureType,
    check_feature_group,
    offline_store_prefix,
)
from mlops_platform.components.replication import CrossRegionReplication, ReplicatedBucket, replication_rule
from mlops_platform.infra.tooling.offline import record

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
BOUNDARY = "arn:aws:iam::123456789012:policy/p-dev-persona-boundary"
S, INT, F = FeatureType.STRING, FeatureType.INTEGRAL, FeatureType.FRACTIONAL


def spec(**changes) -> FeatureGroupSpec:
    base = {
        "name": "p-dev-customers",
        "record_identifier": "id",
        "event_time": "ts",
        "features": [Feature("id", S), Feature("ts", S)],
    }
    return FeatureGroupSpec(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "bad name"}, "feature group 'bad name': name must match"),
        (
            {"features": [Feature("id", S), Feature("ts", S), Feature("write_time", S)]},
            "feature name 'write_time' must match",
        ),
        ({"features": [Feature("id", S), Feature("ts", S), Feature("id", INT)]}, "feature 'id' is defined twice"),
        ({"record_identifier": "customer"}, "record_identifier='customer' is not one of its features (id, ts)"),
        (
            {"features": [Feature("id", F), Feature("ts", S)]},
            "record_identifier='id' is Fractional; expected Integral or String",
        ),
        (
            {"features": [Feature("id", S), Feature("ts", INT)]},
            "event_time='ts' is Integral; expected String or Fractional",
        ),
    ],
)
def test_feature_groups_sagemaker_would_reject_are_refused(changes, message):
    with pytest.raises(ValueError) as caught:
        check_feature_group(spec(**changes))
    assert message in str(caught.value)


def test_feature_store_refuses_repeated_groups_before_registering():
    with pytest.raises(ValueError, match="feature group names repeat: p-dev-customers"):
        FeatureStore("fs", {"name_prefix": "p-dev", "account_id": "123456789012", "region": "us-east-1",
                            "kms_key_arn": KEY, "features_bucket_name": "p-dev-features",
                            "features_bucket_arn": "arn:aws:s3:::p-dev-features", "groups": [spec(), spec()],
                            "permissions_boundary_arn": BOUNDARY})  # fmt: skip


def test_sandbox_groups_live_under_the_prefix_data_scientists_may_write():
    assert offline_store_prefix(spec(stage=FeatureStage.SANDBOX)) == "sandbox/feature-store/p-dev-customers/"
    assert offline_store_prefix(spec(stage=FeatureStage.PRODUCTION)) == "feature-store/p-dev-customers/"


AUDIT_ARGS = {
    "name_prefix": "p-dev", "account_id": "123456789012", "region": "us-east-1", "kms_key_arn": KEY,
    "access_log_bucket": "logs", "data_bucket_arns": ["arn:aws:s3:::raw"], "logs_role_boundary_arn": BOUNDARY,
}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data_bucket_arns": []}, "data_bucket_arns is empty"),
        ({"log_retention_days": 100}, "log_retention_days=100: 100 is not a CloudWatch Logs retention"),
        ({"name_prefix": "P_Dev"}, "name_prefix='P_Dev' must be lowercase"),
    ],
)
def test_audit_trail_refuses_bad_arguments(changes, message):
    with pytest.raises(ValueError) as caught:
        AuditTrail("audit", {**AUDIT_ARGS, **changes})
    assert message in str(caught.value)


def test_cloudtrail_may_use_the_key_only_for_this_trail_and_readers_only_decrypt_log_files():
    plain = cloudtrail_key_statements("us-east-1", "123456789012", "p-dev")
    assert [s["Sid"] for s in plain] == ["CloudTrailEncryptLogs", "CloudTrailDescribeKey", "CloudTrailBucketKeyDecrypt"]
    assert all(
        s["Condition"]["StringEquals"]
        == {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/p-dev-audit"}
        for s in plain
    )
    reader = "arn:aws:iam::123456789012:role/Audit"
    [*_, readers] = cloudtrail_key_statements("us-east-1", "123456789012", "p-dev", [reader])
    assert readers["Action"] == "kms:Decrypt" and readers["Condition"]["ArnLike"] == {"aws:PrincipalArn": [reader]}
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in readers["Condition"]["StringLike"]


def test_audit_bucket_denies_writes_by_anyone_but_cloudtrail():
    policy = {s["Sid"]: s for s in audit_bucket_statements("123456789012", "arn:trail")}
    assert policy["CloudTrailWrite"]["Condition"]["StringEquals"]["aws:SourceArn"] == "arn:trail"
    deny = policy["DenyLogWritesExceptCloudTrail"]
    assert {"s3:PutObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} <= set(deny["Action"])
    assert "AuditReadersRead" not in policy  # nobody reads unless named


def test_writes_only_trails_filter_on_read_only_false():
    [selector] = event_selectors(["arn:aws:s3:::raw"], management=False, reads=False)
    assert {"field": "readOnly", "equals": ["false"]} in selector["field_selectors"]
    assert [s["name"] for s in event_selectors(["b"], management=True, reads=True)] == [
        "Management events",
        "Data-lake objects",
    ]


def replication_args(**changes):
    return {
        "name_prefix": "p-prod", "account_id": "123456789012", "source_region": "us-east-1",
        "replica_region": "us-west-2", "replica_provider": None, "source_kms_key_arn": KEY,
        "sources": [ReplicatedBucket("artifacts", "p-prod-artifacts", "arn:aws:s3:::p-prod-artifacts")],
        "permissions_boundary_arn": BOUNDARY, "administrator_role_arns": ["arn:aws:iam::123456789012:role/admin"],
        **changes,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"replica_region": "us-east-1"}, "replica_region='us-east-1' is the source region"),
        ({"sources": []}, "sources is empty"),
        ({"storage_class": "GLACIER"}, "storage_class='GLACIER' is not one of STANDARD, STANDARD_IA"),
        ({"name_prefix": "a-very-long-platform-name-prod"}, "longer than S3's 37 characters"),
    ],
)
def test_replication_refuses_bad_arguments(changes, message):
    def program():
        provider = aws.Provider("replica", region="us-west-2")
        CrossRegionReplication("dr", replication_args(replica_provider=provider, **changes))

    with pytest.raises(ValueError) as caught:
        record(program)
    assert message in str(caught.value)


def test_replication_time_control_comes_with_metrics_and_deletes_stay_in_the_source_region():
    rule = replication_rule("arn:aws:s3:::r", "key", replication_args(replication_time_control=True))
    assert rule["destination"]["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert rule["destination"]["metrics"]["status"] == "Enabled"  # S3 requires metrics with RTC
    assert rule["delete_marker_replication"] == {"status": "Disabled"}
    assert "replication_time" not in replication_rule("arn:aws:s3:::r", "key", replication_args())["destination"]
