"""SecureBucket and DataLake: the S3 security baseline, resource by resource."""

from __future__ import annotations

import pytest
from mlops_platform.components.storage import BucketEncryption, DataLake, ObjectLock, ObjectLockMode, SecureBucket
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements

KEY = "arn:aws:kms:us-east-1:123456789012:key/abcd"


def bucket_plan(**args):
    base = {"kms_key_arn": KEY, "access_log_bucket": "logs"}
    return record(lambda: SecureBucket("data", {**base, **args}) and None)


def test_bucket_is_encrypted_with_the_given_key_and_bucket_keys():
    sse = bucket_plan().get(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "data-encryption"
    )
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    assert rule["bucketKeyEnabled"] is True


def test_all_four_public_access_blocks_and_acls_disabled():
    plan = bucket_plan()
    pab = plan.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access").inputs
    assert [pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")] == [
        True
    ] * 4
    ownership = plan.get("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "data-ownership").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_versioning_enabled_and_access_logs_go_to_log_bucket():
    plan = bucket_plan()
    assert (
        plan.get("aws:s3/bucketVersioning:BucketVersioning", "data-versioning").inputs["versioningConfiguration"][
            "status"
        ]
        == "Enabled"
    )
    logging = plan.get("aws:s3/bucketLogging:BucketLogging", "data-logging").inputs
    assert logging["targetBucket"] == "logs" and logging["targetPrefix"] == "data/"


def test_policy_denies_non_tls_and_puts_with_other_encryption_or_key():
    doc = policy(bucket_plan().get("aws:s3/bucketPolicy:BucketPolicy", "data-policy"))
    by_sid = {s["Sid"]: s for s in statements(doc)}
    tls = by_sid["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(as_list(tls["Resource"])) == 2  # the bucket and its objects
    other_key = by_sid["DenyPutsWithOtherKey"]["Condition"]
    assert other_key["StringNotEquals"]["s3:x-amz-server-side-encryption-aws-kms-key-id"] == KEY
    assert by_sid["DenyPutsWithOtherEncryption"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "aws:kms"
    }


def test_lifecycle_expires_noncurrent_versions_and_aborts_multipart():
    rules = (
        bucket_plan(noncurrent_version_expiration_days=30, intelligent_tiering_after_days=10)
        .get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "data-lifecycle")
        .inputs["rules"]
    )
    by_id = {r["id"]: r for r in rules}
    assert by_id["expire-noncurrent-versions"]["noncurrentVersionExpiration"]["noncurrentDays"] == 30
    assert by_id["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
    assert by_id["intelligent-tiering"]["transitions"] == [{"days": 10, "storageClass": "INTELLIGENT_TIERING"}]


def test_object_lock_only_when_asked():
    assert not bucket_plan().of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    plan = bucket_plan(object_lock=ObjectLock(ObjectLockMode.COMPLIANCE, 30))
    assert plan.get("aws:s3/bucket:Bucket", "data-bucket").inputs["objectLockEnabled"] is True
    lock = plan.get("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "data-object-lock")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 30}


def test_retain_on_delete_reaches_the_bucket_but_not_its_configuration():
    import pulumi

    plan = record(
        lambda: (
            SecureBucket(
                "data",
                {"kms_key_arn": KEY, "access_log_bucket": "logs"},
                pulumi.ResourceOptions(protect=True, retain_on_delete=True),
            )
            and None
        )
    )
    bucket = plan.get("aws:s3/bucket:Bucket", "data-bucket")
    assert bucket.options["protect"] and bucket.options["retain_on_delete"]
    assert not plan.get("aws:s3/bucketPolicy:BucketPolicy", "data-policy").options["retain_on_delete"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"access_log_bucket": "logs"}, "kms_key_arn is required"),
        ({"kms_key_arn": KEY}, "access_log_bucket is required; set access_logging=False"),
        (
            {"kms_key_arn": KEY, "access_log_bucket": "logs", "bucket_prefix": "Upper-"},
            "bucket_prefix='Upper-' must be lowercase",
        ),
        (
            {"kms_key_arn": KEY, "access_log_bucket": "logs", "noncurrent_version_expiration_days": 0},
            "noncurrent_version_expiration_days=0: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_bucket_args_fail_before_anything_is_registered(args, message):
    registered = []

    def program():
        try:
            SecureBucket("data", args)
        except ValueError as exc:
            registered.append(str(exc))

    plan = record(program)
    assert message in registered[0]
    assert plan.resources == []


def test_data_lake_has_four_kms_buckets_and_an_sse_s3_log_bucket():
    plan = record(
        lambda: DataLake("lake", {"kms_key_arn": KEY, "account_id": "123456789012", "name_prefix": "p-dev"}) and None
    )
    algorithms = {
        r.name: r.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        for r in plan.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    }
    assert algorithms == {
        "lake-raw-encryption": "aws:kms",
        "lake-curated-encryption": "aws:kms",
        "lake-features-encryption": "aws:kms",
        "lake-artifacts-encryption": "aws:kms",
        "lake-access-logs-encryption": BucketEncryption.S3_MANAGED.value,
    }
    targets = {r.inputs["targetBucket"] for r in plan.of_type("aws:s3/bucketLogging:BucketLogging")}
    assert targets == {plan.get("aws:s3/bucket:Bucket", "lake-access-logs-bucket").inputs["bucketPrefix"] + "0000"}
    log_policy = statements(policy(plan.get("aws:s3/bucketPolicy:BucketPolicy", "lake-access-logs-policy")))
    delivery = next(s for s in log_policy if s["Sid"] == "AllowServerAccessLogDelivery")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
