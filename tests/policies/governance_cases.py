"""Rule cases for the governance resources (feature groups, trails, replication), merged into
tests/policies/test_rules.py's tables: a compliant and a non-compliant case (with its reason) per rule."""

from __future__ import annotations

from tests.policies.builders import KEY_ARN, res, stack

FEATURE_GROUP = "aws:sagemaker/featureGroup:FeatureGroup"
TRAIL = "aws:cloudtrail/trail:Trail"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
REPLICA_KEY = "arn:aws:kms:us-west-2:111111111111:key/0f0e0d0c-0000-4000-8000-000000000002"


def _one(type_: str, props: dict):
    def build():
        resource = res(type_, props)
        return resource, stack(resource)

    return build


def feature_group(offline_key=KEY_ARN, online: dict | None = None):
    props = {
        "featureGroupName": "fg",
        "recordIdentifierFeatureName": "id",
        "eventTimeFeatureName": "ts",
        "featureDefinitions": [{"featureName": "id", "featureType": "String"}],
        "roleArn": "arn:aws:iam::111111111111:role/r",
        "offlineStoreConfig": {"s3StorageConfig": {"s3Uri": "s3://features/feature-store/fg", "kmsKeyId": offline_key}},
    }
    if offline_key is None:
        props["offlineStoreConfig"]["s3StorageConfig"].pop("kmsKeyId")
    if online is not None:
        props["onlineStoreConfig"] = online
    return _one(FEATURE_GROUP, props)


def trail(**changes):
    props = {"name": "t", "s3BucketName": "audit", "enableLogFileValidation": True, "kmsKeyId": KEY_ARN, **changes}
    return _one(TRAIL, {k: v for k, v in props.items() if v is not None})


def replication(kms_objects="Enabled", replica_key=REPLICA_KEY, status="Enabled"):
    destination = {"bucket": "arn:aws:s3:::replica", "storageClass": "STANDARD"}
    if replica_key:
        destination["encryptionConfiguration"] = {"replicaKmsKeyId": replica_key}
    rule = {
        "id": "dr",
        "status": status,
        "filter": {"prefix": ""},
        "deleteMarkerReplication": {"status": "Disabled"},
        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": kms_objects}},
        "destination": destination,
    }
    return _one(REPLICATION, {"bucket": "source", "role": "arn:aws:iam::111111111111:role/r", "rules": [rule]})


ONLINE_ENCRYPTED = {"enableOnlineStore": True, "securityConfig": {"kmsKeyId": KEY_ARN}}

COMPLIANT = {
    "MLOPS-FS-001": [feature_group(), feature_group(online=ONLINE_ENCRYPTED)],
    "MLOPS-TRAIL-001": [trail()],
    "MLOPS-TRAIL-002": [trail()],
    "MLOPS-DR-001": [replication(), replication(kms_objects="Disabled", replica_key=None, status="Disabled")],
}

NONCOMPLIANT = {
    "MLOPS-FS-001": [
        (feature_group(offline_key=None), "offline store has no customer-managed kms_key_id"),
        (feature_group(offline_key="alias/aws/s3"), "offline store has no customer-managed kms_key_id"),
        (feature_group(online={"enableOnlineStore": True}), "online store has no customer-managed kms_key_id"),
    ],
    "MLOPS-TRAIL-001": [(trail(enableLogFileValidation=False), "log-file validation is off")],
    "MLOPS-TRAIL-002": [(trail(kmsKeyId=None), "not KMS-encrypted")],
    "MLOPS-DR-001": [
        (replication(kms_objects="Disabled"), "KMS-encrypted objects are not selected"),
        (replication(replica_key=None), "replicas have no customer-managed replica_kms_key_id"),
    ],
}
