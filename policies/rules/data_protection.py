"""Governance resources: feature groups encrypted with a customer-managed key, trails validated and encrypted,
cross-region replication that keeps objects encrypted in the replica region."""

from __future__ import annotations

from collections.abc import Mapping

from ..core import Level, Resource, Verdict, as_list, failed, first, passed, resource_rule, truthy

FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
TRAIL = "aws:cloudtrail/trail:Trail"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def _customer_key(key) -> bool:
    return bool(key) and "alias/aws/" not in str(key)


@resource_rule(
    "MLOPS-FS-001",
    Level.MANDATORY,
    types=[FEATURE_GROUP],
    description="Feature groups encrypt the offline store and, when enabled, the online store with a "
    "customer-managed KMS key.",
    remediation="Use components.features.FeatureStore, or set offline_store_config.s3_storage_config.kms_key_id and "
    "online_store_config.security_config.kms_key_id to the environment's key.",
)
def feature_group_encrypted(group: Resource) -> Verdict:
    """Offline store's S3 key and online store's key set, neither AWS-managed."""
    offline = first(group.get("offlineStoreConfig"))
    online = first(group.get("onlineStoreConfig"))
    problems = []
    if offline and not _customer_key(first(offline.get("s3StorageConfig")).get("kmsKeyId")):
        problems.append("the offline store has no customer-managed kms_key_id")
    if truthy(online.get("enableOnlineStore")) and not _customer_key(
        first(online.get("securityConfig")).get("kmsKeyId")
    ):
        problems.append("the online store has no customer-managed kms_key_id (AWS-owned key)")
    if not offline and not truthy(online.get("enableOnlineStore")):
        problems.append("neither an offline nor an online store is configured")
    return failed("; ".join(problems)) if problems else passed()


@resource_rule(
    "MLOPS-TRAIL-001",
    Level.MANDATORY,
    types=[TRAIL],
    description="Trails validate their log files (digest files prove nothing was changed or deleted).",
    remediation="Set enable_log_file_validation=True (components.audit.AuditTrail does).",
)
def trail_log_file_validation(trail: Resource) -> Verdict:
    """enableLogFileValidation true."""
    return passed() if truthy(trail.get("enableLogFileValidation")) else failed("log-file validation is off")


@resource_rule(
    "MLOPS-TRAIL-002",
    Level.MANDATORY,
    types=[TRAIL],
    description="Trails encrypt their log files with a customer-managed KMS key.",
    remediation="Set kms_key_id to the environment's key; its policy must grant cloudtrail.amazonaws.com with an "
    "aws:SourceArn condition (components.audit.cloudtrail_key_statements).",
)
def trail_kms(trail: Resource) -> Verdict:
    """kmsKeyId set (otherwise log files get SSE-S3 only)."""
    return passed() if trail.get("kmsKeyId") else failed("log files are not KMS-encrypted (no kms_key_id)")


@resource_rule(
    "MLOPS-DR-001",
    Level.MANDATORY,
    types=[REPLICATION],
    description="Replication rules replicate KMS-encrypted objects and encrypt replicas with a customer-managed key "
    "of the destination.",
    remediation="In every enabled rule set source_selection_criteria.sse_kms_encrypted_objects.status = Enabled and "
    "destination.encryption_configuration.replica_kms_key_id (components.replication does).",
)
def replication_encrypted(config: Resource) -> Verdict:
    """Every enabled rule: SSE-KMS objects selected, a replica key named."""
    rules = [r for r in as_list(config.get("rules")) if isinstance(r, Mapping)]
    if not rules:
        return failed("the replication configuration has no rules")
    problems = []
    for rule in rules:
        if rule.get("status") != "Enabled":
            continue
        label = rule.get("id") or "rule"
        criteria = first(first(rule.get("sourceSelectionCriteria")).get("sseKmsEncryptedObjects"))
        if criteria.get("status") != "Enabled":
            problems.append(f"{label}: KMS-encrypted objects are not selected, so they are not replicated")
        key = first(first(rule.get("destination")).get("encryptionConfiguration")).get("replicaKmsKeyId")
        if not _customer_key(key):
            problems.append(f"{label}: replicas have no customer-managed replica_kms_key_id")
    return failed("; ".join(problems)) if problems else passed()
