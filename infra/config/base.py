"""Shared building blocks for the stack-config models: the strict base model and reusable types."""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are frozen after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


@functools.cache
def aws_regions() -> frozenset[str]:
    """Commercial-partition regions as published in botocore's endpoint model."""
    endpoints = json.loads(resources.files("botocore").joinpath("data/endpoints.json").read_text())
    aws = next(p for p in endpoints["partitions"] if p["partition"] == "aws")
    return frozenset(aws["regions"])


def _check_region(value: str) -> str:
    if value not in aws_regions():
        raise ValueError(
            f"not an AWS region; expected one of botocore's regions, e.g. {', '.join(sorted(aws_regions())[:4])}, ..."
        )
    return value


_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")


def _check_arn(value: str) -> str:
    if not _ARN.match(value):
        raise ValueError("not an ARN; expected arn:aws:<service>:<region>:<12-digit account>:<resource>")
    return value


def _check_role_arn(value: str) -> str:
    if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$", value):
        raise ValueError("not an IAM role ARN; expected arn:aws:iam::<12-digit account>:role/<name>")
    return value


AwsRegion = Annotated[str, AfterValidator(_check_region)]
"""An AWS region known to botocore (commercial partition)."""


def _check_account(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError('not an AWS account ID; expected 12 digits, quoted in YAML ("012345678901")')
    return value


AccountId = Annotated[str, AfterValidator(_check_account)]
"""A 12-digit AWS account ID, quoted in YAML so leading zeros survive."""

Arn = Annotated[str, AfterValidator(_check_arn)]
"""Any AWS ARN."""

RoleArn = Annotated[str, AfterValidator(_check_role_arn)]
"""An IAM role ARN."""

RetentionDays = Annotated[int, Field(ge=1, le=3650)]
"""A retention period in days: 1 to 3650 (ten years)."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
"""A lowercase name usable in AWS resource names: letters, digits and hyphens, 2-32 characters."""

GitHubRepository = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
"""A GitHub repository as owner/name."""


def _check_ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError("not an IPv4 CIDR; expected <address>/<prefix length>, e.g. 10.0.0.0/16") from None
    if str(network) != value:
        raise ValueError(f"not a network address (host bits are set); did you mean {network}?")
    return value


Ipv4Cidr = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_ipv4_cidr)]
"""An IPv4 network in CIDR notation with no host bits set, e.g. `10.0.0.0/16`."""


def _check_log_retention(value: int) -> int:
    from components._logs import check_retention_days

    return check_retention_days(value)


LogRetentionDays = Annotated[int, AfterValidator(_check_log_retention)]
"""A CloudWatch Logs retention in days: one of the values CloudWatch accepts (1, 3, 5, 7, 14, 30, ... 3653),
as listed in botocore's logs model."""
