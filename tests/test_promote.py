"""`mlops-platform promote`: checks the version in the source registry (real boto3 SageMaker and S3 clients answered
by botocore's Stubber, which also validates every request against the service models), carries its baselines into
the target's artifacts bucket, registers it in the target's group and rewrites only the variant's ARN in the target
stack file, comments and layout kept."""

from __future__ import annotations

import datetime
import shutil

import boto3
import pytest
from botocore.stub import ANY, Stubber
from mlops_platform.infra.tooling import cli
from mlops_platform.infra.tooling.promote import PromotionError, promote

from tests.conftest import REPO
from tests.promote_stubs import (
    DEV_BUCKET,
    PROD,
    PROD_BUCKET,
    PROD_KEY,
    SOURCE_ARN,
    STAGING,
    STAGING_BUCKET,
    STAGING_KEY,
    expect_no_promoted_version,
    expect_source_checks,
    expect_target_bucket,
    metrics,
    published,
    referenced,
    served_by,
)


@pytest.fixture
def stacks(tmp_path):
    """A copy of the repository's stack files (the fixture the command rewrites)."""
    for path in (REPO / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def _stubbed(service: str):
    client = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def sagemaker():
    yield from _stubbed("sagemaker")


@pytest.fixture
def s3():
    """The S3 client of the promotion (source and target share a region here, so one client reads and writes)."""
    yield from _stubbed("s3")


LATEST_QUERY = {
    "ModelPackageGroupName": "churn-model",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 1,
}


def described(
    status: str = "Approved", arn: str = SOURCE_ARN, group: str = "churn-model", bucket: str = DEV_BUCKET
) -> dict:
    return {
        **metrics(bucket),
        "ModelPackageName": group,
        "ModelPackageGroupName": group,
        "ModelPackageVersion": int(arn.rsplit("/", 1)[1]),
        "ModelPackageArn": arn,
        "CreationTime": datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC),
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [served_by(arn)],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }


def staging_diff(text: str) -> str:
    """The exact diff promoting churn-model 15 into staging writes: one line of the `churn` endpoint's `primary`
    variant (line numbers taken from the fixture, so an unrelated edit above it does not break this test)."""
    first = text.splitlines().index("    - name: churn") + 1
    return f"""\
--- a/Pulumi.staging.yaml
+++ b/Pulumi.staging.yaml
@@ -{first},7 +{first},7 @@
     - name: churn
       variants:
         - name: primary
-          model_package_arn: arn:aws:sagemaker:us-east-1:222222222222:model-package/churn-model/14
+          model_package_arn: arn:aws:sagemaker:us-east-1:222222222222:model-package/churn-model/15
           instance_type: ml.m5.large
           initial_instance_count: 2
           autoscaling:
"""


def test_dry_run_checks_the_source_and_its_baselines_and_prints_the_diff_without_registering_or_writing(
    stacks, sagemaker, s3
):
    client, stubber = sagemaker
    s3_client, s3_stub = s3
    before = (stacks / "Pulumi.staging.yaml").read_text()
    stubber.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    expect_source_checks(s3_stub, [*referenced(DEV_BUCKET), *published(DEV_BUCKET, SOURCE_ARN)])
    expect_target_bucket(s3_stub, "mlops-platform-staging-artifacts-", STAGING_BUCKET, STAGING_KEY)
    expect_no_promoted_version(stubber)
    latest = {
        "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/14",
        "ModelPackageVersion": 14,
        "CreationTime": datetime.datetime(2026, 11, 1),
        "ModelPackageStatus": "Completed",
    }
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": [latest]}, LATEST_QUERY)
    done = promote("churn-model", 15, to="staging", stacks_dir=stacks, dry_run=True, sagemaker=lambda region: client,
                   s3=lambda region: s3_client)  # fmt: skip
    assert (done.source_arn, done.registered, done.written, done.copied) == (SOURCE_ARN, False, False, ())
    # The target's next version happens to be 15 too: staging's group already holds 14 versions.
    assert done.diff == staging_diff(before)
    assert (stacks / "Pulumi.staging.yaml").read_text() == before
    # What it would copy: every referenced object and every published file, into staging's bucket.
    assert len(done.baselines) == len(referenced(DEV_BUCKET)) + len(published(DEV_BUCKET, SOURCE_ARN))
    assert all(uri.startswith(f"s3://{STAGING_BUCKET}/models/") for uri in done.baselines)


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_an_unapproved_version_is_refused_and_nothing_changes(stacks, sagemaker, status):
    client, stubber = sagemaker
    before = (stacks / "Pulumi.staging.yaml").read_text()
    stubber.add_response("describe_model_package", described(status), {"ModelPackageName": SOURCE_ARN})
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=lambda region: client)
    assert f"{SOURCE_ARN} is {status}, not Approved" in str(refused.value)
    assert "update-model-package" in str(refused.value) and "--model-approval-status Approved" in str(refused.value)
    assert (stacks / "Pulumi.staging.yaml").read_text() == before


def test_a_package_of_another_group_or_account_is_refused_as_foreign(stacks, sagemaker):
    client, stubber = sagemaker
    foreign = "arn:aws:sagemaker:us-east-1:999999999999:model-package/churn-model/15"
    stubber.add_response("describe_model_package", described(arn=foreign), {"ModelPackageName": SOURCE_ARN})
    with pytest.raises(PromotionError, match="refusing a foreign package"):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=lambda region: client)
    stubber.add_response("describe_model_package", described(group="fraud-model"), {"ModelPackageName": SOURCE_ARN})
    with pytest.raises(PromotionError, match=r"group 'fraud-model'\) is not a version of 'churn-model'"):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=lambda region: client)


def test_a_version_the_target_cannot_read_is_refused_with_the_reason(stacks, sagemaker):
    client, stubber = sagemaker
    stubber.add_client_error(
        "describe_model_package", "AccessDeniedException", "not authorized", expected_params={"ModelPackageName": ANY}
    )
    with pytest.raises(PromotionError, match=r"AccessDeniedException.*does not share it with this account"):
        promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=lambda region: client)


def test_a_group_not_shared_with_the_target_account_is_refused_before_any_aws_call(stacks):
    text = (stacks / "Pulumi.staging.yaml").read_text().replace('share_with_accounts: ["333333333333"]', "")
    (stacks / "Pulumi.staging.yaml").write_text(text)
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 15, to="prod", stacks_dir=stacks, sagemaker=pytest.fail)
    assert f"staging's model group 'churn-model' is not shared with prod's account {PROD}" in str(refused.value)


def test_several_variants_serving_the_model_need_a_choice(stacks, sagemaker, s3):
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 20, to="prod", stacks_dir=stacks, sagemaker=pytest.fail)
    assert "churn/champion (12), churn/challenger (14)" in str(refused.value) and "--variant" in str(refused.value)

    client, stubber = sagemaker
    s3_client, s3_stub = s3
    source = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/20"
    stubber.add_response(
        "describe_model_package", described(arn=source, bucket=STAGING_BUCKET), {"ModelPackageName": source}
    )
    expect_source_checks(s3_stub, [*referenced(STAGING_BUCKET), *published(STAGING_BUCKET, source)])
    expect_target_bucket(s3_stub, "mlops-platform-prod-artifacts-", PROD_BUCKET, PROD_KEY)
    expect_no_promoted_version(stubber)
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": []}, LATEST_QUERY)
    done = promote("churn-model", 20, to="prod", variant="challenger", stacks_dir=stacks, dry_run=True,
                   sagemaker=lambda region: client, s3=lambda region: s3_client)  # fmt: skip
    assert (
        "-          model_package_arn: arn:aws:sagemaker:us-east-1:333333333333:model-package/churn-model/14"
        in done.diff
    )
    assert (
        "+          model_package_arn: arn:aws:sagemaker:us-east-1:333333333333:model-package/churn-model/1\n"
        in done.diff
    )
    assert "churn-model/12" not in done.diff.replace(" churn-model/12\n", "")  # the champion is untouched


def test_cli_refusal_exits_2_with_the_reason(stacks, capsys):
    code = cli.main(["promote", "fraud-model", "3", "--to", "staging", "--stacks-dir", str(stacks)])
    assert code == 2
    assert (
        "model 'fraud-model' is not in dev's registry.models (churn-features-model, churn-model, demand-forecast)"
        in capsys.readouterr().err
    )
