"""A promoted version's baselines as the tests' source registry holds them, and Stubber expectations of the S3 and
SageMaker calls a promotion makes around them (shared by tests/test_promote*.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from botocore.stub import Stubber
from mlops_platform.components.model_monitoring import BASELINE_FILES
from mlops_platform.infra.tooling.promote_baselines import MANIFEST

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
DEV_BUCKET, STAGING_BUCKET, PROD_BUCKET = (f"mlops-platform-{env}-artifacts-0000" for env in ("dev", "staging", "prod"))
"""Artifacts buckets as the offline plans name them (the suffix is random in a real account)."""
STAGING_KEY = f"arn:aws:kms:us-east-1:{STAGING}:key/6f1c2b7e-0d3a-4c5e-9b8f-1a2b3c4d5e6f"
PROD_KEY = f"arn:aws:kms:us-east-1:{PROD}:key/0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
SOURCE_ARN = f"arn:aws:sagemaker:us-east-1:{DEV}:model-package/churn-model/15"
IMAGE = f"{DEV}.dkr.ecr.us-east-1.amazonaws.com/mlops-platform-dev/serving:v1.4.0"
MODEL_DATA = f"s3://{DEV_BUCKET}/models/churn-model/15/model.tar.gz"


def served_by(arn: str) -> dict[str, str]:
    """The container a version serves: an image of its own environment's registry and an artifact of its own
    artifacts bucket (what the pipeline registers; SOURCE_ARN serves IMAGE and MODEL_DATA)."""
    account, version = arn.split(":")[4], arn.rsplit("/", 1)[1]
    env = {DEV: "dev", STAGING: "staging", PROD: "prod"}.get(account, "elsewhere")
    return {
        "Image": f"{account}.dkr.ecr.us-east-1.amazonaws.com/mlops-platform-{env}/serving:v1.4.0",
        "ModelDataUrl": f"s3://mlops-platform-{env}-artifacts-0000/models/churn-model/{version}/model.tar.gz",
    }


RUN = "pipelines/train-evaluate-register-churn/execution-7"
CODE = "code/train-evaluate-register-churn"
PIPELINE_LAYOUT = {
    # What the train-evaluate-register pipeline registers (pipelines/train_evaluate_register/definition.py).
    "ModelMetrics": {
        "ModelQuality": {"Statistics": f"{RUN}/evaluation/evaluation.json",
                         "Constraints": f"{RUN}/checks/model-quality/constraints.json"},
        "ModelDataQuality": {"Statistics": f"{RUN}/checks/data-quality/statistics.json"},
    },
    "DriftCheckBaselines": {
        "ModelDataQuality": {"Statistics": f"{RUN}/checks/data-quality/statistics.json",  # the same object again
                             "Constraints": f"{RUN}/checks/data-quality/constraints.json"},
        "Bias": {"ConfigFile": f"{CODE}/5e3a/checks/model-bias/bias-monitoring-configuration/analysis_config.json",
                 "PostTrainingConstraints": f"{CODE}/config/bias-constraints.json"},
    },
}  # fmt: skip


def _paths(node: Mapping, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], str]]:
    for name, value in node.items():
        if isinstance(value, str):
            yield (*path, name), value
        else:
            yield from _paths(value, (*path, name))


def _layout(bucket: str) -> list[tuple[tuple[str, ...], str]]:
    """Field path and source key of each reference. Dev's versions come from the pipeline; staging's were promoted
    from dev, so they reference staging's copies (the layout a promotion writes, see `promoted_key`)."""
    if bucket == DEV_BUCKET:
        return list(_paths(PIPELINE_LAYOUT))
    return [(path, promoted_key(SOURCE_ARN, path, key)) for path, key in _paths(PIPELINE_LAYOUT)]


def promoted_key(source_arn: str, path: tuple[str, ...], source_key: str) -> str:
    """Where a promotion files a referenced object in the target (docs/promotion.md): under the source version's ARN,
    by field, keeping the file name."""
    return "/".join(["models/promoted", source_arn, *path, source_key.rsplit("/", 1)[-1]])


def metrics(bucket: str) -> dict:
    """ModelMetrics and DriftCheckBaselines of a version whose baselines live in `bucket`."""
    sections: dict = {}
    for path, key in _layout(bucket):
        node = sections
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = {"ContentType": "application/json", "S3Uri": f"s3://{bucket}/{key}"}
    return sections


def referenced(bucket: str) -> list[str]:
    """The URIs a version's ModelMetrics/DriftCheckBaselines reference, in the package's order (duplicates kept)."""
    return [f"s3://{bucket}/{key}" for _, key in _layout(bucket)]


def referenced_copies(bucket: str, source_arn: str) -> list[tuple[str, str]]:
    """(source URI, target key) of each referenced object."""
    return [(f"s3://{bucket}/{key}", promoted_key(source_arn, path, key)) for path, key in _layout(bucket)]


def published_files() -> list[str]:
    """What PublishBaselines files under a version's ARN: the monitors' files and its manifest."""
    return [*sorted(BASELINE_FILES.values()), MANIFEST]


def published(bucket: str, arn: str) -> list[str]:
    """The published files of version `arn` in `bucket`."""
    return [f"s3://{bucket}/models/baselines/{arn}/{name}" for name in published_files()]


def published_copies(bucket: str, source_arn: str, target_arn: str) -> list[tuple[str, str]]:
    """(source URI, target key) of each published file: under the target version's ARN, where its monitors look."""
    return [(uri, f"models/baselines/{target_arn}/{name}")
            for uri, name in zip(published(bucket, source_arn), published_files(), strict=True)]  # fmt: skip


def etag(uri: str) -> str:
    """A stable ETag per source object (S3 quotes it)."""
    return '"' + hashlib.md5(uri.encode()).hexdigest() + '"'


def _split(uri: str) -> dict:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return {"Bucket": bucket, "Key": key}


def expect_source_checks(stub: Stubber, uris: Iterable[str], missing: Mapping[str, int] | None = None) -> None:
    """HeadObject of each source object; those in `missing` answer with that HTTP status (404 absent, 403 denied)."""
    for uri in uris:
        if missing and uri in missing:
            status = missing[uri]
            stub.add_client_error("head_object", str(status), "", http_status_code=status, expected_params=_split(uri))
        else:
            stub.add_response("head_object", {"ETag": etag(uri), "ContentType": "application/json"}, _split(uri))


def expect_target_bucket(stub: Stubber, prefix: str, bucket: str, key_arn: str) -> None:
    """The target account's artifacts bucket, found by its name prefix, and its default encryption key."""
    stub.add_response("list_buckets", {"Buckets": [{"Name": bucket}]}, {"Prefix": prefix})
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": True}  # fmt: skip
    stub.add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": [rule]}},
                      {"Bucket": bucket})  # fmt: skip


APPROVED_QUERY = {
    "ModelPackageGroupName": "churn-model",
    "ModelApprovalStatus": "Approved",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 100,
}
"""How a promotion looks for a version it already registered from the same source version."""


def expect_no_promoted_version(stub: Stubber) -> None:
    """The target group holds no version promoted from the source version yet."""
    stub.add_response("list_model_packages", {"ModelPackageSummaryList": []}, APPROVED_QUERY)


def expect_copies(
    stub: Stubber, copies: Iterable[tuple[str, str]], bucket: str, key_arn: str, *, present: bool = False
) -> None:
    """Per copy, the target HeadObject, then (absent) the CopyObject, whose request the test reads from its capture.
    `present`: the target already holds the copy as a promotion writes it (its metadata names the source object)."""
    for source, target_key in copies:
        where = {"Bucket": bucket, "Key": target_key}
        if present:
            head = {"ETag": '"copy"', "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn,
                    "Metadata": {"promoted-from": source, "source-etag": etag(source)}}  # fmt: skip
            stub.add_response("head_object", head, where)
        else:
            stub.add_client_error("head_object", "404", "", http_status_code=404, expected_params=where)
            stub.add_response("copy_object", {"CopyObjectResult": {"ETag": '"copy"'}}, None)
