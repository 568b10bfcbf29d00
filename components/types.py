"""Validated value types shared by the components' arguments and the stack config (one source of truth).

Each type is a pydantic `Annotated` string or number whose validator says what is accepted. The components
check their plain arguments with them at the component edge (`components._validation`); the stack config
(`infra.config`) uses the same types for its keys. Values that are Pulumi `Output`s are not known before the
deployment and pass unchecked.
"""

import functools
import ipaddress
import json
import re
import zoneinfo
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from . import sagemaker_catalog as catalog
from ._logs import check_retention_days


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


def _check_principal_arn(value: str) -> str:
    if not re.match(r"^arn:aws[a-z-]*:(iam::\d{12}:(role|user)/[\w+=,.@/-]+|iam::\d{12}:root|sts::\d{12}:.+)$", value):
        raise ValueError(
            "not an IAM principal ARN; expected arn:aws:iam::<12-digit account>:role/<name> (or :user/<name>, :root)"
        )
    return value


def _check_policy_arn(value: str) -> str:
    if not re.match(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+$", value):
        raise ValueError("not an IAM policy ARN; expected arn:aws:iam::<12-digit account>:policy/<name>")
    return value


def _check_kms_key_arn(value: str) -> str:
    if not re.match(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[\w-]+|alias/[\w/-]+)$", value):
        raise ValueError("not a KMS key ARN; expected arn:aws:kms:<region>:<12-digit account>:key/<key id>")
    return value


def _check_topic_arn(value: str) -> str:
    if not re.match(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$", value):
        raise ValueError("not an SNS topic ARN; expected arn:aws:sns:<region>:<12-digit account>:<topic>")
    return value


def _check_account(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise ValueError('not an AWS account ID; expected 12 digits, quoted in YAML ("012345678901")')
    return value


def _check_ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError("not an IPv4 CIDR; expected <address>/<prefix length>, e.g. 10.0.0.0/16") from None
    if str(network) != value:
        raise ValueError(f"not a network address (host bits are set); did you mean {network}?")
    return value


def _check_instance_type(value: str) -> str:
    if value not in catalog.endpoint_instance_types():
        close = sorted(t for t in catalog.endpoint_instance_types() if t.split(".")[1:2] == value.split(".")[1:2])
        hint = f"; this family has {', '.join(close[:6])}" if close else "; e.g. ml.m5.large, ml.c6i.xlarge"
        raise ValueError(f"not a SageMaker endpoint instance type (botocore ProductionVariantInstanceType){hint}")
    return value


def _check_processing_instance_type(value: str) -> str:
    if value not in catalog.processing_instance_types():
        raise ValueError("not a SageMaker processing instance type (botocore ProcessingInstanceType), e.g. ml.m5.large")
    return value


def _check_model_package_arn(value: str) -> str:
    if not catalog.MODEL_PACKAGE_ARN.match(value):
        raise ValueError(
            "not a versioned model package ARN; expected "
            "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
        )
    return value


_CONNECTION_ARN = re.compile(
    r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]{36}"
)


def _check_connection_arn(value: str) -> str:
    if not _CONNECTION_ARN.fullmatch(value):
        raise ValueError(
            "not a CodeConnections connection ARN; expected arn:aws:codeconnections:<region>:<account>:connection/<id> "
            "(create it once in the console and complete the GitHub App handshake, see docs/operations.md)"
        )
    return value


def _check_cron(value: str) -> str:
    if not re.fullmatch(r"cron\((\S+ ){5}\S+\)", value):
        raise ValueError(
            "not a cron expression; expected cron(<min> <hour> <day> <month> <weekday> <year>), "
            "e.g. cron(0 19 ? * MON-FRI *)"
        )
    return value


def _check_timezone(value: str) -> str:
    if value not in zoneinfo.available_timezones():
        raise ValueError("not an IANA time zone, e.g. Europe/Berlin, America/New_York, UTC")
    return value


AwsRegion = Annotated[str, AfterValidator(_check_region)]
"""An AWS region known to botocore (commercial partition)."""

AccountId = Annotated[str, AfterValidator(_check_account)]
"""A 12-digit AWS account ID, quoted in YAML so leading zeros survive."""

Arn = Annotated[str, AfterValidator(_check_arn)]
"""Any AWS ARN."""

RoleArn = Annotated[str, AfterValidator(_check_role_arn)]
"""An IAM role ARN."""

PrincipalArn = Annotated[str, AfterValidator(_check_principal_arn)]
"""An IAM principal ARN: a role, a user or an account root."""

PolicyArn = Annotated[str, AfterValidator(_check_policy_arn)]
"""An IAM managed policy ARN (customer or AWS managed), e.g. a permissions boundary."""

KmsKeyArn = Annotated[str, AfterValidator(_check_kms_key_arn)]
"""A KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`; an alias ARN is accepted too)."""

TopicArn = Annotated[str, AfterValidator(_check_topic_arn)]
"""An SNS topic ARN."""

RetentionDays = Annotated[int, Field(ge=1, le=3650)]
"""A retention period in days: 1 to 3650 (ten years)."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
"""A lowercase name usable in AWS resource names: letters, digits and hyphens, 2-32 characters."""

NamePrefix = Annotated[str, StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")]
"""A physical-name prefix such as `mlops-platform-dev`: lowercase letters, digits and hyphens, 1-40 characters."""

GitHubRepository = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
"""A GitHub repository as owner/name."""

GitHubUserId = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,19}$")]
"""A GitHub account's numeric ID (`gh api users/<login> --jq .id`), as webhooks carry it in `sender.id`."""

Ipv4Cidr = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_ipv4_cidr)]
"""An IPv4 network in CIDR notation with no host bits set, e.g. `10.0.0.0/16`."""

LogRetentionDays = Annotated[int, AfterValidator(check_retention_days)]
"""A CloudWatch Logs retention in days: one of the values CloudWatch accepts (1, 3, 5, 7, 14, 30, ... 3653),
as listed in botocore's logs model."""

BucketName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
"""An S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."""

S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")]
"""An s3://bucket/key URI."""

_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9]+([._/-][a-z0-9]+)*"
    r"(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)


def _check_ecr_image(value: str) -> str:
    if not _ECR_IMAGE.match(value):
        raise ValueError(
            "not an ECR image URI; expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> "
            "(or @sha256:<digest>)"
        )
    return value


EcrImage = Annotated[str, AfterValidator(_check_ecr_image)]
"""An ECR image URI with a tag or a digest."""

VariantName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$")]
"""A SageMaker variant name: letters, digits and single hyphens, at most 63 characters."""

SageMakerName = VariantName
"""A SageMaker entity name (endpoint, model package group, pipeline): letters, digits and hyphens, 1-63."""

EndpointInstanceType = Annotated[str, AfterValidator(_check_instance_type)]
"""An instance type in botocore's `ProductionVariantInstanceType` enum."""

ProcessingInstanceType = Annotated[str, AfterValidator(_check_processing_instance_type)]
"""An instance type in botocore's `ProcessingInstanceType` enum."""

ModelPackageArn = Annotated[str, AfterValidator(_check_model_package_arn)]
"""A versioned model package ARN."""

Cron = Annotated[str, AfterValidator(_check_cron)]
"""An Application Auto Scaling / EventBridge cron expression with six fields."""

TimeZone = Annotated[str, AfterValidator(_check_timezone)]
"""An IANA time zone."""

TagPattern = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._*-]{1,128}$")]
"""An image tag with optional `*` wildcards, e.g. `v*`."""

ServicePrincipal = Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$")]
"""An AWS service principal, e.g. `sagemaker.amazonaws.com`."""

Days = Annotated[int, Field(ge=1, le=36500)]
"""A number of days, at least 1 (S3 lifecycle and lock periods)."""

Seconds = Annotated[int, Field(ge=0)]
"""A duration in seconds, not negative."""

Percent = Annotated[float, Field(ge=0, le=100)]
"""A percentage, 0-100."""

MultipartAbortDays = Annotated[int, Field(ge=1, le=30)]
"""Days before an unfinished multipart upload is aborted: 1-30 (its parts are billed until then)."""

TieringDays = Annotated[int, Field(ge=0, le=3650)]
"""Days before objects move to S3 Intelligent-Tiering: 0 (at once) to 3650."""

DeletionWindowDays = Annotated[int, Field(ge=7, le=30)]
"""A KMS key's deletion waiting period: 7-30 days (KMS's limits)."""

ConnectionArn = Annotated[str, AfterValidator(_check_connection_arn)]
"""An AWS CodeConnections (formerly CodeStar Connections) connection ARN."""

BucketArn = Annotated[str, StringConstraints(pattern=r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
"""An S3 bucket ARN (`arn:aws:s3:::<bucket>`)."""
