"""Wiring of the environment's key and data lake from the `storage` settings (the first capability: every
other one encrypts with this key)."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_platform.components.access import CI_READERS, Persona, role_arn
from mlops_platform.components.encryption import EncryptionKey
from mlops_platform.components.monitoring import PUBLISHER_SERVICES
from mlops_platform.components.storage import DataLake, ObjectLock, ObjectLockMode
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.model_sharing import artifacts_bucket_statements


@dataclass
class Storage:
    """What the storage capability built."""

    key: EncryptionKey
    """The environment's customer-managed key (data, artifacts, logs, topics, cluster secrets)."""
    lake: DataLake
    """The data-lake buckets and their access-log bucket."""


def key_administrators(settings: PlatformSettings) -> list[str]:
    """Who administers the environment's keys (never uses them): the CI deployer and `access.key_administrator_arns`."""
    return [
        role_arn(settings.account, settings.name_prefix, Persona.CI_DEPLOYER),
        *settings.access.key_administrator_arns,
    ]


class StorageCapability(Capability):
    """The env key, whose users are every persona plus every capability's
    `key_users`, and the data lake encrypted with it."""

    name = "storage"

    def build(self, platform: Platform) -> Storage:
        settings = platform.settings
        prefix = settings.name_prefix
        key = EncryptionKey(
            "data-key",
            {
                "account_id": settings.account,
                "description": f"{prefix} data, artifacts and logs",
                "alias": f"{prefix}-data",
                "administrator_role_arns": key_administrators(settings),
                "metadata_reader_role_arns": [role_arn(settings.account, prefix, p) for p in CI_READERS],
                "region": settings.region,
                # Every persona, the CI readers too: refresh reads the uploaded pipeline scripts (its IAM policy
                # limits it to decrypting the artifacts bucket's objects through S3).
                "user_role_arns": [role_arn(settings.account, prefix, persona) for persona in Persona]
                + platform.key_users(),
                "service_principals": [f"logs.{settings.region}.amazonaws.com"],
                "sns_publisher_principals": list(PUBLISHER_SERVICES),
                "extra_policy_statements": platform.key_policy_statements(),
            },
            platform.stateful,
        )
        storage = settings.storage
        lock = storage.object_lock
        lake = DataLake(
            "datalake",
            {
                "kms_key_arn": key.arn,
                "account_id": settings.account,
                "name_prefix": prefix,
                "noncurrent_version_expiration_days": storage.noncurrent_version_expiration_days,
                "abort_incomplete_multipart_upload_days": storage.abort_incomplete_multipart_upload_days,
                "intelligent_tiering_after_days": storage.intelligent_tiering_after_days,
                "access_log_retention_days": storage.access_log_retention_days,
                "object_lock": ObjectLock(ObjectLockMode(lock.mode.value), lock.retention_days) if lock else None,
                "force_destroy": storage.force_destroy,
                "artifacts_policy_statements": artifacts_bucket_statements(settings),
            },
            platform.stateful,
        )
        return Storage(key=key, lake=lake)

    def outputs(self, platform: Platform) -> dict:
        built = platform.result(self.name, Storage)
        return {
            "data_key_arn": built.key.arn,
            "buckets": {zone: bucket.name for zone, bucket in built.lake.buckets.items()},
            "access_log_bucket": built.lake.log_bucket.name,
        }


CAPABILITY = StorageCapability()
