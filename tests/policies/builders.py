"""Synthetic resources and stacks for rule tests, with props in pulumi-aws 7 wire form (camelCase)."""

from __future__ import annotations

import json
from typing import Any

from mlops_platform.policies.core import Provider, Resource, Stack, make_urn

PROJECT = "mlops-platform"
KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/0f0e0d0c-0000-4000-8000-000000000001"
TAGS = {"env": "dev", "project": PROJECT, "team": "ml-platform", "cost-center": "cc-1234"}


def provider(stack: str = "dev", tags: dict | None = None, name: str = "aws", as_json: bool = True) -> Provider:
    """An explicit AWS provider with default tags (JSON text, as the engine passes provider inputs)."""
    tags = {**TAGS, "env": stack} if tags is None else tags
    block = {"tags": tags}
    return Provider(
        "pulumi:providers:aws",
        name,
        make_urn(stack, PROJECT, "pulumi:providers:aws", name),
        {"defaultTags": json.dumps(block) if as_json else block, "region": "us-east-1"},
    )


def res(
    type_: str,
    props: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    stack: str = "dev",
    deps: dict[str, list[Resource]] | None = None,
    provider_: Provider | bool | None = True,
    protect: bool = False,
    retain_on_delete: bool | None = False,
) -> Resource:
    """One resource; `deps` maps an input name to the resources it was computed from."""
    name = name or type_.rsplit(":", 1)[-1].lower()
    return Resource(
        type=type_,
        name=name,
        urn=make_urn(stack, PROJECT, type_, name),
        props=props or {},
        provider=provider(stack) if provider_ is True else (provider_ or None),
        protect=protect,
        retain_on_delete=retain_on_delete,
        property_dependencies={k: tuple(r.urn for r in v) for k, v in (deps or {}).items()},
    )


def stack(*resources: Resource, name: str = "dev") -> Stack:
    """A stack of these resources."""
    return Stack(name=name, resources=tuple(resources))


def document(*statements: dict) -> str:
    """A policy document as JSON text, the way pulumi-aws receives it."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BUCKET = "aws:s3/bucket:Bucket"


def tls_deny(bucket_arn: str = "arn:aws:s3:::data-bucket") -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def encryption_deny(bucket_arn: str = "arn:aws:s3:::data-bucket") -> dict:
    header = "s3:x-amz-server-side-encryption"
    return {
        "Sid": "DenyPutsWithOtherEncryption",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"StringNotEquals": {header: "aws:kms"}, "Null": {header: "false"}},
    }


def bucket_stack(drop: tuple[str, ...] = (), stack_name: str = "dev", **overrides: dict) -> tuple[Stack, Resource]:
    """A bucket with every configuration resource of the baseline; `drop` removes some by role,
    `overrides[role]` replaces a role's props. Returns (stack, bucket)."""
    bucket = res(
        BUCKET,
        overrides.get("bucket", {"bucketPrefix": "mlops-platform-dev-raw-"}),
        name="raw-bucket",
        stack=stack_name,
    )
    config = {
        "encryption": (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
                        "bucketKeyEnabled": True,
                    }
                ]
            },
        ),
        "versioning": ("aws:s3/bucketVersioning:BucketVersioning", {"versioningConfiguration": {"status": "Enabled"}}),
        "public-access": (
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            {
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "policy": ("aws:s3/bucketPolicy:BucketPolicy", {"policy": document(tls_deny(), encryption_deny())}),
        "logging": ("aws:s3/bucketLogging:BucketLogging", {"targetBucket": "logs-0000", "targetPrefix": "raw/"}),
        "lifecycle": (
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            {
                "rules": [
                    {
                        "id": "expire-noncurrent-versions",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "noncurrentVersionExpiration": {"noncurrentDays": 90},
                    },
                    {
                        "id": "abort",
                        "status": "Enabled",
                        "filter": {"prefix": ""},
                        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                    },
                ]
            },
        ),
        "ownership": (
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
    }
    children = [
        res(
            type_,
            {"bucket": "raw-bucket-id", **overrides.get(role, props)},
            name=f"raw-{role}",
            stack=stack_name,
            deps={"bucket": [bucket]},
        )
        for role, (type_, props) in config.items()
        if role not in drop
    ]
    return stack(bucket, *children, name=stack_name), bucket
