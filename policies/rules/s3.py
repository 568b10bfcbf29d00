"""S3: every bucket carries the baseline through its configuration resources (pulumi-aws 7 splits a
bucket into `aws:s3/bucket:Bucket` plus one resource per setting, linked by their `bucket` input)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import (
    Level,
    Resource,
    Stack,
    Verdict,
    as_list,
    failed,
    first,
    parse_json,
    passed,
    stack_rule,
    truthy,
)
from ._iam import statements

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _encryption_default(bucket: Resource, stack: Stack) -> tuple[Mapping[str, Any], bool] | None:
    """(applyServerSideEncryptionByDefault, bucketKeyEnabled) from the SSE resource or the inline block."""
    for sse in stack.referencing(bucket, SSE, "bucket"):
        rule = first(sse.get("rules"))
        return first(rule.get("applyServerSideEncryptionByDefault")), truthy(rule.get("bucketKeyEnabled"))
    inline = first(bucket.get("serverSideEncryptionConfiguration"))
    if inline:
        rule = first(inline.get("rule"))
        return first(rule.get("applyServerSideEncryptionByDefault")), truthy(rule.get("bucketKeyEnabled"))
    return None


@stack_rule(
    "MLOPS-S3-001",
    Level.MANDATORY,
    types=[BUCKET],
    description="Buckets use SSE-KMS with a customer-managed key and S3 bucket keys.",
    remediation="Use components.storage.SecureBucket (KMS is its default) or add a "
    "BucketServerSideEncryptionConfiguration with sse_algorithm aws:kms, kms_master_key_id and "
    "bucket_key_enabled=True.",
)
def bucket_sse_kms(bucket: Resource, stack: Stack) -> Verdict:
    """SSE-KMS, a named key, bucket keys on."""
    found = _encryption_default(bucket, stack)
    if found is None:
        return failed("no default encryption configuration for the bucket")
    default, bucket_key = found
    algorithm = default.get("sseAlgorithm")
    if algorithm not in ("aws:kms", "aws:kms:dsse"):
        return failed(f"default encryption is {algorithm or 'unset'}, not SSE-KMS")
    if not default.get("kmsMasterKeyId"):
        return failed("SSE-KMS without kms_master_key_id uses the AWS-managed aws/s3 key, not a customer-managed key")
    if not bucket_key:
        return failed("bucket_key_enabled is off (every object request would call KMS)")
    return passed("SSE-KMS with a customer-managed key and bucket keys")


@stack_rule(
    "MLOPS-S3-002",
    Level.MANDATORY,
    types=[BUCKET],
    description="Buckets have versioning enabled.",
    remediation="Add a BucketVersioning with versioning_configuration.status = Enabled (SecureBucket does).",
)
def bucket_versioning(bucket: Resource, stack: Stack) -> Verdict:
    """Versioning Enabled (Suspended or absent fails)."""
    for versioning in stack.referencing(bucket, VERSIONING, "bucket"):
        status = first(versioning.get("versioningConfiguration")).get("status")
        return passed() if status == "Enabled" else failed(f"versioning status is {status}")
    if truthy(first(bucket.get("versioning")).get("enabled")):
        return passed("inline versioning")
    return failed("no BucketVersioning for the bucket")


@stack_rule(
    "MLOPS-S3-003",
    Level.MANDATORY,
    types=[BUCKET],
    description="Buckets block public access with all four public-access-block settings.",
    remediation="Add a BucketPublicAccessBlock with block_public_acls, block_public_policy, ignore_public_acls "
    "and restrict_public_buckets all True.",
)
def bucket_public_access_block(bucket: Resource, stack: Stack) -> Verdict:
    """All four flags true."""
    blocks = stack.referencing(bucket, PUBLIC_ACCESS, "bucket")
    if not blocks:
        return failed("no BucketPublicAccessBlock for the bucket")
    off = [flag for flag in PUBLIC_ACCESS_FLAGS if not truthy(blocks[0].get(flag))]
    return failed(f"public access not blocked: {', '.join(off)} off") if off else passed()


def _bucket_policy_statements(bucket: Resource, stack: Stack) -> list[dict] | None:
    documents = [parse_json(p.get("policy")) for p in stack.referencing(bucket, POLICY, "bucket")]
    if bucket.get("policy"):
        documents.append(parse_json(bucket.get("policy")))
    if not documents:
        return None
    return [s for doc in documents for s in statements(doc)]


def _everyone(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS")))


def _denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not _everyone(statement):
        return False
    if not {"s3:*", "*"} & set(as_list(statement.get("Action"))):
        return False
    secure = (statement.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport")
    if not any(str(v).lower() == "false" for v in as_list(secure)):
        return False
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    return "*" in resources or (any(r.endswith("/*") for r in resources) and any("/" not in r for r in resources))


@stack_rule(
    "MLOPS-S3-004",
    Level.MANDATORY,
    types=[BUCKET],
    description="The bucket policy denies every request not made over TLS, on the bucket and its objects.",
    remediation="Add a Deny statement for Principal *, Action s3:*, Resource [bucket ARN, bucket ARN/*] with "
    "Condition Bool aws:SecureTransport = false (SecureBucket's DenyInsecureTransport).",
)
def bucket_denies_insecure_transport(bucket: Resource, stack: Stack) -> Verdict:
    """A TLS-only deny covering bucket and objects."""
    found = _bucket_policy_statements(bucket, stack)
    if found is None:
        return failed("the bucket has no bucket policy")
    if any(_denies_insecure_transport(s) for s in found):
        return passed()
    return failed("no Deny of s3:* for everyone when aws:SecureTransport is false on the bucket and its objects")


ENCRYPTION_HEADERS = ("s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id")


def _denies_other_encryption(statement: Mapping[str, Any]) -> bool:
    if statement.get("Effect") != "Deny" or not _everyone(statement):
        return False
    if not {"s3:PutObject", "s3:Put*", "s3:*", "*"} & set(as_list(statement.get("Action"))):
        return False
    conditions = statement.get("Condition") or {}
    keys = {key for operator in conditions.values() if isinstance(operator, Mapping) for key in operator}
    return bool(keys & set(ENCRYPTION_HEADERS))


@stack_rule(
    "MLOPS-S3-005",
    Level.MANDATORY,
    types=[BUCKET],
    description="The bucket policy denies puts that request another encryption algorithm or key.",
    remediation="Add Deny statements on s3:PutObject conditioned on s3:x-amz-server-side-encryption (not "
    "aws:kms) and s3:x-amz-server-side-encryption-aws-kms-key-id (not the bucket's key).",
)
def bucket_denies_unencrypted_puts(bucket: Resource, stack: Stack) -> Verdict:
    """A Deny on PutObject keyed on the encryption headers."""
    found = _bucket_policy_statements(bucket, stack)
    if found is None:
        return failed("the bucket has no bucket policy")
    if any(_denies_other_encryption(s) for s in found):
        return passed()
    return failed("no Deny of s3:PutObject conditioned on the server-side-encryption headers")


@stack_rule(
    "MLOPS-S3-006",
    Level.MANDATORY,
    types=[BUCKET],
    description="Buckets write server access logs to a log bucket.",
    remediation="Add a BucketLogging with target_bucket set to the environment's access-log bucket "
    "(SecureBucket's access_log_bucket).",
)
def bucket_access_logging(bucket: Resource, stack: Stack) -> Verdict:
    """A BucketLogging (or inline logging) with a target bucket."""
    for logging in stack.referencing(bucket, LOGGING, "bucket"):
        return passed() if logging.get("targetBucket") else failed("BucketLogging without target_bucket")
    if first(bucket.get("logging")).get("targetBucket"):
        return passed("inline logging")
    return failed("no server access logging for the bucket")


@stack_rule(
    "MLOPS-S3-007",
    Level.ADVISORY,
    types=[BUCKET],
    description="Buckets expire noncurrent versions and abort incomplete multipart uploads.",
    remediation="Add a BucketLifecycleConfiguration with an enabled noncurrent_version_expiration rule and an "
    "enabled abort_incomplete_multipart_upload rule.",
)
def bucket_lifecycle(bucket: Resource, stack: Stack) -> Verdict:
    """Both housekeeping rules present and enabled."""
    configs = stack.referencing(bucket, LIFECYCLE, "bucket")
    if not configs:
        return failed("no lifecycle configuration: old versions and failed uploads are kept forever")
    enabled = [r for c in configs for r in as_list(c.get("rules")) if r.get("status") == "Enabled"]
    missing = [
        label
        for label, key in (
            ("noncurrent version expiration", "noncurrentVersionExpiration"),
            ("multipart-upload abort", "abortIncompleteMultipartUpload"),
        )
        if not any(r.get(key) for r in enabled)
    ]
    return failed(f"lifecycle lacks {' and '.join(missing)}") if missing else passed()


@stack_rule(
    "MLOPS-S3-008",
    Level.MANDATORY,
    types=[BUCKET],
    description="Buckets disable ACLs (object ownership BucketOwnerEnforced).",
    remediation="Add a BucketOwnershipControls with rule.object_ownership = BucketOwnerEnforced.",
)
def bucket_acls_disabled(bucket: Resource, stack: Stack) -> Verdict:
    """Ownership controls with BucketOwnerEnforced."""
    for controls in stack.referencing(bucket, OWNERSHIP, "bucket"):
        ownership = first(controls.get("rule")).get("objectOwnership")
        return passed() if ownership == "BucketOwnerEnforced" else failed(f"object ownership is {ownership}")
    return failed("no BucketOwnershipControls for the bucket")
