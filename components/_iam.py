"""Small helpers for IAM policy documents kept as plain dicts (rendered with `Output.json_dumps`)."""

from typing import Any

import pulumi

Statement = dict[str, Any]

DEFAULT_PARTITION = "aws"


def document(statements: list[Statement]) -> dict[str, Any]:
    """An IAM policy document with the current language version."""
    return {"Version": "2012-10-17", "Statement": statements}


def render(statements: list[Statement]) -> pulumi.Output[str]:
    """Render statements (which may hold Outputs) to the JSON text AWS expects."""
    return pulumi.Output.json_dumps(document(statements))


def account_root(account_id: pulumi.Input[str], partition: str = DEFAULT_PARTITION) -> pulumi.Output[str]:
    """The `arn:<partition>:iam::<account>:root` principal, meaning "IAM policies of this account decide"."""
    return pulumi.Output.concat("arn:", partition, ":iam::", account_id, ":root")


def service_trust(
    sid: str, service: str, account_id: pulumi.Input[str], actions: str | list[str] = "sts:AssumeRole"
) -> Statement:
    """A trust statement letting an AWS service assume the role on behalf of this account only."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": actions,
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }
