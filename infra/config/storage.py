"""The `storage` section: how the data lake's buckets retain, tier and lock data."""

from __future__ import annotations

from enum import StrEnum

from mlops_platform.components.types import MultipartAbortDays, TieringDays
from pydantic import model_validator

from .base import RetentionDays, StrictModel


class ObjectLockMode(StrEnum):
    """S3 Object Lock retention modes (`ObjectLockRetentionMode` in botocore's S3 model)."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class ObjectLockSettings(StrictModel):
    """Write-once-read-many retention for the data buckets."""

    mode: ObjectLockMode
    """GOVERNANCE (privileged users may shorten it) or COMPLIANCE (nobody can, not even root)."""
    retention_days: RetentionDays
    """Default retention applied to every new object version."""


class StorageSettings(StrictModel):
    """Retention, tiering and locking of the data-lake buckets (raw, curated, features, artifacts)."""

    noncurrent_version_expiration_days: RetentionDays = 90
    """Days a superseded object version is kept before S3 expires it."""
    abort_incomplete_multipart_upload_days: MultipartAbortDays = 7
    """Days after which unfinished multipart uploads are aborted (1-30)."""
    intelligent_tiering_after_days: TieringDays | None = None
    """Move current versions to S3 Intelligent-Tiering after this many days; unset keeps STANDARD."""
    access_log_retention_days: RetentionDays = 365
    """Days the server access logs are kept in the log bucket."""
    object_lock: ObjectLockSettings | None = None
    """Object Lock on the raw and artifacts buckets; unset means no lock. Can only be enabled at bucket creation."""
    force_destroy: bool = False
    """Let `pulumi destroy` delete non-empty buckets. Only for throw-away dev stacks."""

    @model_validator(mode="after")
    def _lock_outlives_expiry(self) -> StorageSettings:
        lock = self.object_lock
        if lock and self.noncurrent_version_expiration_days < lock.retention_days:
            raise ValueError(
                f"noncurrent_version_expiration_days ({self.noncurrent_version_expiration_days}) is shorter than "
                f"object_lock.retention_days ({lock.retention_days}); locked versions cannot expire early, "
                "so set it to at least the lock's retention"
            )
        return self
