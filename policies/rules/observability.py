"""SNS topics and CloudWatch log groups: encrypted with a customer-managed key, logs with a retention."""

from __future__ import annotations

from ..core import Level, Resource, Verdict, failed, passed, resource_rule

TOPIC = "aws:sns/topic:Topic"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


@resource_rule(
    "MLOPS-SNS-001",
    Level.MANDATORY,
    types=[TOPIC],
    description="Topics are encrypted with a customer-managed KMS key.",
    remediation="Set kms_master_key_id to the environment's key (its policy must let the publishing services, "
    "e.g. cloudwatch.amazonaws.com, use it); the AWS-managed alias/aws/sns can't grant them.",
)
def topic_kms(topic: Resource) -> Verdict:
    """kmsMasterKeyId set and not the AWS-managed key."""
    key = topic.get("kmsMasterKeyId")
    if not key:
        return failed("the topic is not encrypted (no kms_master_key_id)")
    if str(key).endswith("alias/aws/sns"):
        return failed("alias/aws/sns is AWS-managed: CloudWatch alarms and EventBridge cannot publish with it")
    return passed()


@resource_rule(
    "MLOPS-LOG-001",
    Level.MANDATORY,
    types=[LOG_GROUP],
    description="Log groups are encrypted with a customer-managed KMS key.",
    remediation="Set kms_key_id to the environment's key (its policy grants logs.<region>.amazonaws.com).",
)
def log_group_kms(group: Resource) -> Verdict:
    """kmsKeyId set."""
    return passed() if group.get("kmsKeyId") else failed("the log group has no kms_key_id")


@resource_rule(
    "MLOPS-LOG-002",
    Level.MANDATORY,
    types=[LOG_GROUP],
    description="Log groups have a retention period (never 'keep forever').",
    remediation="Set retention_in_days (e.g. 30 in dev, 365 in prod).",
)
def log_group_retention(group: Resource) -> Verdict:
    """retentionInDays > 0 (0 or unset keeps logs forever)."""
    days = group.get("retentionInDays", 0)
    return passed(f"{days:g} days") if days and days > 0 else failed("no retention: logs are kept forever")
