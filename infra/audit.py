"""Wiring of the `audit` section: the environment's CloudTrail trail, its key-policy statements and what the CI
deployer needs to deploy it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from mlops_platform.components.audit import AuditTrail, cloudtrail_key_statements, trail_name
from mlops_platform.components.storage import ObjectLock, ObjectLockMode
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.config.governance import AuditMode, audit_object_lock

Statement = dict[str, Any]


def audit_key_statements(settings: PlatformSettings) -> list[Statement]:
    """The env key's policy additions: CloudTrail (for this environment's trail only) and the log readers."""
    return cloudtrail_key_statements(
        settings.region, settings.account, settings.name_prefix, settings.audit.reader_role_arns
    )


def audit_deployer_statements(settings: PlatformSettings) -> list[Statement]:
    """The CI deployer may create and update the env's trail and its metric filters, never stop it; it may delete
    the trail only where stateful resources are not protected (dev stacks)."""
    region, account, prefix = settings.region, settings.account, settings.name_prefix
    actions = [
        "cloudtrail:CreateTrail", "cloudtrail:UpdateTrail", "cloudtrail:StartLogging",
        "cloudtrail:PutEventSelectors", "cloudtrail:AddTags", "cloudtrail:RemoveTags", "cloudtrail:GetTrail",
        "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors",
        "cloudtrail:ListTags", "cloudtrail:DescribeTrails",
    ]  # fmt: skip
    if not settings.protection.protect_stateful:
        actions.append("cloudtrail:DeleteTrail")
    return [
        {"Sid": "ManageEnvTrail", "Effect": "Allow", "Action": actions,
         "Resource": f"arn:aws:cloudtrail:{region}:{account}:trail/{trail_name(prefix)}"},
        {"Sid": "ManageEnvAuditFilters", "Effect": "Allow",
         "Action": ["logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters"],
         "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/cloudtrail/{prefix}*"},
        {"Sid": "ManageEnvAuditAlarms", "Effect": "Allow",
         "Action": ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
                    "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"],
         "Resource": f"arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}-audit-*"},
    ]  # fmt: skip


def build_audit(
    settings: PlatformSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    access_log_bucket: pulumi.Input[str],
    data_bucket_arns: Sequence[pulumi.Input[str]],
    alert_topic_arn: pulumi.Input[str],
    logs_role_boundary_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> AuditTrail:
    """The trail over every data-lake bucket; in organization mode it records their data events only, the
    organisation's trail having the management events."""
    audit = settings.audit
    lock = audit_object_lock(settings)
    return AuditTrail(
        "audit",
        {
            "name_prefix": settings.name_prefix,
            "account_id": settings.account,
            "region": settings.region,
            "kms_key_arn": kms_key_arn,
            "access_log_bucket": access_log_bucket,
            "data_bucket_arns": data_bucket_arns,
            "management_events": audit.mode is AuditMode.TRAIL,
            "multi_region": audit.multi_region,
            "data_event_reads": audit.data_event_reads,
            "log_retention_days": audit.log_retention_days,
            "bucket_retention_days": audit.bucket_retention_days,
            "object_lock": ObjectLock(ObjectLockMode(lock.mode.value), lock.retention_days) if lock else None,
            "alert_topic_arn": alert_topic_arn,
            "reader_role_arns": audit.reader_role_arns,
            "logs_role_boundary_arn": logs_role_boundary_arn,
            "force_destroy": settings.storage.force_destroy,
        },
        opts,
    )


def audit_outputs(trail: AuditTrail, settings: PlatformSettings) -> dict[str, Any]:
    """Stack outputs: the trail, the audit bucket and, in organization mode, the organisation's trail."""
    return {
        "audit": {
            "trail_arn": trail.trail.arn,
            "bucket": trail.bucket.name,
            "log_group": trail.log_group.name,
            "organization_trail_arn": settings.audit.organization_trail_arn,
        }
    }


class AuditCapability(Capability):
    """The environment's CloudTrail trail, audit bucket, log group and CIS alarms to the alert topic."""

    name = "audit"

    def deployer_statements(self, settings: PlatformSettings) -> list[Statement]:
        return audit_deployer_statements(settings)

    def build(self, platform: Platform) -> AuditTrail:
        from mlops_platform.components.boundaries import ServiceRoleBoundary
        from mlops_platform.infra.monitoring import Alerting
        from mlops_platform.infra.storage import Storage

        built = platform.result("storage", Storage)
        return build_audit(
            platform.settings,
            kms_key_arn=built.key.arn,
            access_log_bucket=built.lake.log_bucket.name,
            data_bucket_arns=[bucket.arn for bucket in built.lake.buckets.values()],
            alert_topic_arn=platform.result("monitoring", Alerting).topic.topic_arn,
            logs_role_boundary_arn=platform.result("service-roles", ServiceRoleBoundary).arn,
            opts=platform.stateful,
        )

    def outputs(self, platform: Platform) -> dict[str, Any]:
        return audit_outputs(platform.result(self.name, AuditTrail), platform.settings)


CAPABILITY = AuditCapability()
