"""A promotion carries the version's baselines into the target environment (real boto3 clients answered by botocore's
Stubber): every object its ModelMetrics and DriftCheckBaselines reference and the monitors' files its pipeline
published, copied into the target's artifacts bucket under the target's key; the target version points at the copies;
a second run copies and registers nothing; a missing baseline stops it before anything is created."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from mlops_platform.components.model_monitoring import BASELINE_FILES
from mlops_platform.infra.tooling.offline import preview_stack
from mlops_platform.infra.tooling.promote import PromotionError, promote

from tests.conftest import REPO
from tests.promote_stubs import (
    APPROVED_QUERY,
    DEV_BUCKET,
    IMAGE,
    MODEL_DATA,
    PROD,
    PROD_BUCKET,
    PROD_KEY,
    SOURCE_ARN,
    STAGING,
    STAGING_BUCKET,
    STAGING_KEY,
    expect_copies,
    expect_no_promoted_version,
    expect_source_checks,
    expect_target_bucket,
    metrics,
    published,
    published_copies,
    referenced,
    referenced_copies,
    served_by,
)

NEW_STAGING_ARN = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/15"
STAGING_VERSION = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/20"


@pytest.fixture
def stacks(tmp_path):
    """A copy of the repository's stack files (the fixture the command rewrites)."""
    for path in (REPO / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


class Recorded:
    """A stubbed client and the requests it received, by operation (what the test asserts on)."""

    def __init__(self, service: str) -> None:
        self.client = boto3.client(
            service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.stub = Stubber(self.client)
        self.requests: dict[str, list[dict]] = {}
        self.client.meta.events.register(f"provide-client-params.{service}.*", self._record)

    def _record(self, params: dict, model, **_) -> None:
        self.requests.setdefault(model.name, []).append(dict(params))

    def factory(self, region: str):
        """The client factory `promote` takes (one region here)."""
        return self.client


@pytest.fixture
def sagemaker() -> Iterator[Recorded]:
    recorded = Recorded("sagemaker")
    with recorded.stub:
        yield recorded
        recorded.stub.assert_no_pending_responses()


@pytest.fixture
def s3() -> Iterator[Recorded]:
    recorded = Recorded("s3")
    with recorded.stub:
        yield recorded
        recorded.stub.assert_no_pending_responses()


def described(arn: str = SOURCE_ARN, bucket: str = DEV_BUCKET, *, with_metrics: bool = True, **extra) -> dict:
    return {
        "ModelPackageName": "churn-model",
        "ModelPackageGroupName": "churn-model",
        "ModelPackageVersion": int(arn.rsplit("/", 1)[1]),
        "ModelPackageArn": arn,
        "CreationTime": datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC),
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "ModelApprovalStatus": "Approved",
        "InferenceSpecification": {"Containers": [served_by(arn)]},
        **(metrics(bucket) if with_metrics else {}),
        **extra,
    }


def s3_uris(node) -> list[str]:
    """Every S3Uri in a ModelMetrics/DriftCheckBaselines structure."""
    if isinstance(node, dict):
        return [node["S3Uri"]] if "S3Uri" in node else [u for v in node.values() for u in s3_uris(v)]
    return []


def first_promotion(sagemaker: Recorded, s3: Recorded) -> None:
    """Stub answers of dev churn-model 15 -> staging, as AWS gives them the first time."""
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3.stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    expect_no_promoted_version(sagemaker.stub)
    expect_copies(s3.stub, referenced_copies(DEV_BUCKET, SOURCE_ARN), STAGING_BUCKET, STAGING_KEY)
    sagemaker.stub.add_response("create_model_package", {"ModelPackageArn": NEW_STAGING_ARN}, None)
    monitors = published_copies(DEV_BUCKET, SOURCE_ARN, NEW_STAGING_ARN)
    expect_copies(s3.stub, monitors, STAGING_BUCKET, STAGING_KEY)


def test_every_baseline_is_copied_into_the_target_bucket_with_the_target_key_and_the_version_points_at_the_copies(
    stacks, sagemaker, s3
):
    first_promotion(sagemaker, s3)
    done = promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)

    copies = s3.requests["CopyObject"]
    sources = [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)]
    assert [f"s3://{c['CopySource']['Bucket']}/{c['CopySource']['Key']}" for c in copies] == sources
    for copy in copies:  # into staging's bucket, re-encrypted with staging's key, exactly the object checked
        assert (copy["Bucket"], copy["ServerSideEncryption"], copy["SSEKMSKeyId"]) == (
            STAGING_BUCKET, "aws:kms", STAGING_KEY
        )  # fmt: skip
        source = f"s3://{copy['CopySource']['Bucket']}/{copy['CopySource']['Key']}"
        assert (
            copy["Metadata"]["promoted-from"] == source and copy["CopySourceIfMatch"] == copy["Metadata"]["source-etag"]
        )
    # The monitors' files land where the target's monitors look for the new version's baselines.
    published_keys = {c["Key"] for c in copies[len(referenced(DEV_BUCKET)) :]}
    assert {f"models/baselines/{NEW_STAGING_ARN}/{name}" for name in BASELINE_FILES.values()} <= published_keys

    [registered] = sagemaker.requests["CreateModelPackage"]
    assert registered["ModelApprovalStatus"] == "Approved"
    assert registered["InferenceSpecification"]["Containers"] == [{"Image": IMAGE, "ModelDataUrl": MODEL_DATA}]
    uris = s3_uris({k: registered[k] for k in ("ModelMetrics", "DriftCheckBaselines")})
    assert len(uris) == len(referenced(DEV_BUCKET))  # every metric and baseline field kept
    copied = {f"s3://{c['Bucket']}/{c['Key']}" for c in copies}
    assert all(uri in copied for uri in uris)  # each one a copy in staging's bucket, none in dev's
    assert registered["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": f"s3://{STAGING_BUCKET}/models/promoted/{SOURCE_ARN}/ModelMetrics/ModelQuality/Statistics/"
        "evaluation.json",
    }
    assert done.target_arn == NEW_STAGING_ARN and len(done.copied) == len(copies)
    assert NEW_STAGING_ARN in (stacks / "Pulumi.staging.yaml").read_text()


def test_a_second_promotion_of_the_same_version_registers_and_copies_nothing(stacks, sagemaker, s3):
    first_promotion(sagemaker, s3)
    first = promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    written = (stacks / "Pulumi.staging.yaml").read_text()
    [registered] = sagemaker.requests["CreateModelPackage"]

    # Hours later (the idempotency token has expired): AWS answers with what the first run left.
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3.stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    summary = {"ModelPackageArn": NEW_STAGING_ARN, "ModelPackageVersion": 15, "ModelPackageStatus": "Completed",
               "CreationTime": datetime.datetime(2026, 12, 1), "ModelApprovalStatus": "Approved",
               "ModelPackageDescription": registered["ModelPackageDescription"]}  # fmt: skip
    sagemaker.stub.add_response("list_model_packages", {"ModelPackageSummaryList": [summary]}, APPROVED_QUERY)
    again = described(
        NEW_STAGING_ARN,
        CustomerMetadataProperties=registered["CustomerMetadataProperties"],
        InferenceSpecification=registered["InferenceSpecification"],  # what the first run registered
    )
    sagemaker.stub.add_response("describe_model_package", again, {"ModelPackageName": NEW_STAGING_ARN})
    expect_copies(s3.stub, referenced_copies(DEV_BUCKET, SOURCE_ARN), STAGING_BUCKET, STAGING_KEY, present=True)
    monitors = published_copies(DEV_BUCKET, SOURCE_ARN, NEW_STAGING_ARN)
    expect_copies(s3.stub, monitors, STAGING_BUCKET, STAGING_KEY, present=True)
    second = promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)

    assert len(sagemaker.requests["CreateModelPackage"]) == 1  # no second version
    assert len(s3.requests["CopyObject"]) == len(first.copied)  # no copy made again
    assert second.copied == () and second.target_arn == first.target_arn and second.baselines == first.baselines
    assert second.diff == "" and (stacks / "Pulumi.staging.yaml").read_text() == written


@pytest.mark.parametrize(("status", "says"), [(404, "does not exist"), (403, "cannot be read (403)")])
def test_a_missing_baseline_stops_the_promotion_naming_it_before_anything_is_created(
    stacks, sagemaker, s3, status, says
):
    before = (stacks / "Pulumi.staging.yaml").read_text()
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    constraints = f"s3://{DEV_BUCKET}/pipelines/train-evaluate-register-churn/execution-7/checks/model-quality/" + (
        "constraints.json"
    )
    config = f"s3://{DEV_BUCKET}/models/baselines/{SOURCE_ARN}/model-bias/config.json"
    expect_source_checks(
        s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)], {constraints: status, config: status}
    )
    # Nothing else is stubbed: a bucket look-up, a copy or a registration would fail the test.
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    message = str(refused.value)
    assert "nothing was registered or copied" in message
    assert f"{constraints}: {says}" in message and f"{config}: {says}" in message
    assert "CopyObject" not in s3.requests and "CreateModelPackage" not in sagemaker.requests
    assert (stacks / "Pulumi.staging.yaml").read_text() == before


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("s3://someone-elses-bucket/checks/statistics.json", "expected every one in the source environment's"),
        (f"s3://{DEV_BUCKET}/data-capture/churn/2026/11/30/requests.jsonl", "not a key a promotion may read"),
    ],
)
def test_baselines_outside_the_source_artifacts_baselines_are_refused_before_any_s3_call(
    stacks, sagemaker, s3, uri, says
):
    package = described()
    package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"] = uri
    sagemaker.stub.add_response("describe_model_package", package, {"ModelPackageName": SOURCE_ARN})
    with pytest.raises(PromotionError, match=says):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    assert s3.requests == {}


def test_a_version_without_drift_baselines_cannot_become_the_monitors_baseline(stacks, sagemaker, s3):
    package = described(STAGING_VERSION, with_metrics=False)
    sagemaker.stub.add_response("describe_model_package", package, {"ModelPackageName": STAGING_VERSION})
    with pytest.raises(PromotionError) as refused:  # prod's champion is its churn monitors' baseline variant
        promote("churn-model", 20, to="prod", variant="champion", stacks_dir=stacks, sagemaker=sagemaker.factory,
                s3=s3.factory)  # fmt: skip
    assert f"{STAGING_VERSION} has no DriftCheckBaselines" in str(refused.value)
    assert "monitoring.baseline_variant" in str(refused.value) and s3.requests == {}


def test_the_target_stacks_monitors_read_exactly_the_copies_the_promotion_made(stacks, sagemaker, s3):
    """staging -> prod into the champion, whose package baselines prod's churn monitors: after the promotion, the
    rewritten prod stack's monitors (the real program, offline) read objects the promotion copied into prod."""
    new_arn = f"arn:aws:sagemaker:us-east-1:{PROD}:model-package/churn-model/15"
    sagemaker.stub.add_response(
        "describe_model_package", described(STAGING_VERSION, STAGING_BUCKET), {"ModelPackageName": STAGING_VERSION}
    )
    expect_source_checks(s3.stub, [*referenced(STAGING_BUCKET), *published(STAGING_BUCKET, STAGING_VERSION)])
    expect_target_bucket(s3.stub, "mlops-platform-prod-artifacts-", PROD_BUCKET, PROD_KEY)
    expect_no_promoted_version(sagemaker.stub)
    expect_copies(s3.stub, referenced_copies(STAGING_BUCKET, STAGING_VERSION), PROD_BUCKET, PROD_KEY)
    sagemaker.stub.add_response("create_model_package", {"ModelPackageArn": new_arn}, None)
    monitors = published_copies(STAGING_BUCKET, STAGING_VERSION, new_arn)
    expect_copies(s3.stub, monitors, PROD_BUCKET, PROD_KEY)
    done = promote("churn-model", 20, to="prod", variant="champion", stacks_dir=stacks, sagemaker=sagemaker.factory,
                   s3=s3.factory)  # fmt: skip

    # A version promoted twice (dev -> staging -> prod) reads staging's copies and files its own in prod.
    sources = {f"s3://{c['CopySource']['Bucket']}/{c['CopySource']['Key']}" for c in s3.requests["CopyObject"]}
    assert all(uri.startswith(f"s3://{STAGING_BUCKET}/models/") for uri in sources)
    plan = preview_stack("prod", stacks)
    assert plan.outputs["buckets"]["artifacts"] == PROD_BUCKET
    data = plan.get("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition", "monitors-churn-data-quality")
    read = [data.inputs["dataQualityBaselineConfig"][r]["s3Uri"] for r in ("statisticsResource", "constraintsResource")]
    for name in ("monitors-churn-model-quality", "monitors-churn-model-bias"):
        state = plan.get("aws:cloudcontrol/resource:Resource", name).inputs["desiredState"]
        read += [u for u in state.split('"') if u.startswith("s3://") and "/models/baselines/" in u]
    assert len(read) == len(BASELINE_FILES)  # statistics and constraints, quality and bias constraints, bias config
    copied = {f"s3://{PROD_BUCKET}/{key}" for key in done.copied}
    assert set(read) <= copied, set(read) - copied


def test_a_refused_copy_stops_before_the_version_is_registered_naming_the_object(stacks, sagemaker, s3):
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3.stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    expect_no_promoted_version(sagemaker.stub)
    [(source, target_key), *_] = referenced_copies(DEV_BUCKET, SOURCE_ARN)
    where = {"Bucket": STAGING_BUCKET, "Key": target_key}
    s3.stub.add_client_error("head_object", "404", "", http_status_code=404, expected_params=where)
    s3.stub.add_client_error("copy_object", "AccessDenied", "denied by the source's bucket policy", 403)
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    assert f"copying {source} to s3://{STAGING_BUCKET}/{target_key} failed: AccessDenied" in str(refused.value)
    assert "running the same promotion again resumes" in str(refused.value)
    assert "CreateModelPackage" not in sagemaker.requests


def test_a_version_serving_an_earlier_environments_image_is_refused_before_anything_is_read(stacks, sagemaker, s3):
    """dev -> staging -> prod: a staging version promoted from dev serves dev's image and artifact, which prod's
    inference role may not read (prod promotes from staging only). Refused, naming the image."""
    chained = described(STAGING_VERSION, STAGING_BUCKET, InferenceSpecification={"Containers": [served_by(SOURCE_ARN)]})
    sagemaker.stub.add_response("describe_model_package", chained, {"ModelPackageName": STAGING_VERSION})
    with pytest.raises(PromotionError, match=r"serves the image 111111111111\.dkr\.ecr.*not in staging's ECR registry"):
        promote("churn-model", 20, to="prod", variant="champion", stacks_dir=stacks, sagemaker=sagemaker.factory,
                s3=s3.factory)  # fmt: skip
    assert not s3.requests  # nothing read, checked or copied


def test_a_registered_version_claiming_the_source_but_serving_other_containers_is_not_reused(stacks, sagemaker, s3):
    """Someone registered a version with the promotion's metadata but their own artifact: a later promotion of the
    source refuses to hand it to the pull request."""
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3.stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    summary = {"ModelPackageArn": NEW_STAGING_ARN, "ModelPackageVersion": 15, "ModelPackageStatus": "Completed",
               "CreationTime": datetime.datetime(2026, 12, 1), "ModelApprovalStatus": "Approved",
               "ModelPackageDescription": f"Promoted from dev: {SOURCE_ARN}"}  # fmt: skip
    sagemaker.stub.add_response("list_model_packages", {"ModelPackageSummaryList": [summary]}, APPROVED_QUERY)
    planted = described(
        NEW_STAGING_ARN,
        CustomerMetadataProperties={"promoted_from": SOURCE_ARN, "source_environment": "dev"},
        InferenceSpecification={
            "Containers": [{**served_by(SOURCE_ARN), "ModelDataUrl": f"s3://{STAGING_BUCKET}/x.tar.gz"}]
        },
    )
    sagemaker.stub.add_response("describe_model_package", planted, {"ModelPackageName": NEW_STAGING_ARN})
    with pytest.raises(PromotionError, match=r"says it was promoted from .* but serves other containers"):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    assert "CreateModelPackage" not in sagemaker.requests and "CopyObject" not in s3.requests


def test_a_baseline_copy_that_differs_from_the_source_is_never_overwritten(stacks, sagemaker, s3):
    """A re-run finds a copy whose record is not the source object as it is now (the source changed, or someone wrote
    there): it stops, naming the object, and overwrites nothing."""
    sagemaker.stub.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3.stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3.stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    expect_no_promoted_version(sagemaker.stub)
    [(source, target_key), *_] = referenced_copies(DEV_BUCKET, SOURCE_ARN)
    head = {"ETag": '"other"', "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": STAGING_KEY,
            "Metadata": {"promoted-from": source, "source-etag": '"an-older-version"'}}  # fmt: skip
    s3.stub.add_response("head_object", head, {"Bucket": STAGING_BUCKET, "Key": target_key})
    with pytest.raises(PromotionError, match=r"exists but is not the copy of .* never rewritten"):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    assert "CopyObject" not in s3.requests and "CreateModelPackage" not in sagemaker.requests


@pytest.mark.parametrize(
    ("container", "says"),
    [
        ({"Image": "docker.io/library/python:3.12"}, r"serves the image docker\.io/library/python:3\.12"),
        (
            {
                "ModelDataUrl": None,
                "ModelDataSource": {
                    "S3DataSource": {
                        "S3Uri": "s3://another-teams-bucket/x/",
                        "S3DataType": "S3Prefix",
                        "CompressionType": "None",
                    }
                },
            },
            "serves the artifact s3://another-teams-bucket/x/",
        ),
    ],
)
def test_images_outside_ecr_and_uncompressed_model_data_are_checked_like_the_artifact(
    stacks, sagemaker, s3, container, says
):
    """The image must be in the source's ECR registry (parsed, not a prefix), and an uncompressed `ModelDataSource`
    is checked (then carried over and compared) like a `ModelDataUrl`."""
    served = {k: v for k, v in {**served_by(SOURCE_ARN), **container}.items() if v is not None}
    package = described(InferenceSpecification={"Containers": [served]})
    sagemaker.stub.add_response("describe_model_package", package, {"ModelPackageName": SOURCE_ARN})
    with pytest.raises(PromotionError, match=says):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=sagemaker.factory, s3=s3.factory)
    assert not s3.requests
