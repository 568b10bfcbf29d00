"""`mlops-platform promote`: checks the version in the source registry (a real boto3 SageMaker client answered by
botocore's Stubber, which also validates every request against the SageMaker model), registers it in the target's
group and rewrites only the variant's ARN in the target stack file, comments and layout kept."""

from __future__ import annotations

import datetime
import shutil

import boto3
import pytest
from botocore.stub import ANY, Stubber
from mlops_platform.infra.tooling import cli
from mlops_platform.infra.tooling.promote import PromotionError, promote

from tests.conftest import REPO

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
SOURCE_ARN = f"arn:aws:sagemaker:us-east-1:{DEV}:model-package/churn-model/15"
IMAGE = f"{DEV}.dkr.ecr.us-east-1.amazonaws.com/mlops-platform-dev/serving:v1.4.0"
MODEL_DATA = "s3://mlops-platform-dev-artifacts-0000/models/churn-model/15/model.tar.gz"


@pytest.fixture
def stacks(tmp_path):
    """A copy of the repository's stack files (the fixture the command rewrites)."""
    for path in (REPO / "stacks").glob("Pulumi.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


@pytest.fixture
def sagemaker():
    client = boto3.client(
        "sagemaker", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


LATEST_QUERY = {
    "ModelPackageGroupName": "churn-model",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 1,
}


def described(status: str = "Approved", arn: str = SOURCE_ARN, group: str = "churn-model") -> dict:
    return {
        "ModelPackageName": group,
        "ModelPackageGroupName": group,
        "ModelPackageVersion": int(arn.rsplit("/", 1)[1]),
        "ModelPackageArn": arn,
        "CreationTime": datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC),
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [{"Image": IMAGE, "ModelDataUrl": MODEL_DATA}],
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


def test_dry_run_checks_the_source_and_prints_the_diff_without_registering_or_writing(stacks, sagemaker):
    client, stubber = sagemaker
    before = (stacks / "Pulumi.staging.yaml").read_text()
    stubber.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    latest = {
        "ModelPackageArn": f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/14",
        "ModelPackageVersion": 14,
        "CreationTime": datetime.datetime(2026, 11, 1),
        "ModelPackageStatus": "Completed",
    }
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": [latest]}, LATEST_QUERY)
    done = promote("churn-model", 15, to="staging", stacks_dir=stacks, dry_run=True, sagemaker=lambda region: client)
    assert (done.source_arn, done.registered, done.written) == (SOURCE_ARN, False, False)
    # The target's next version happens to be 15 too: staging's group already holds 14 versions.
    assert done.diff == staging_diff(before)
    assert (stacks / "Pulumi.staging.yaml").read_text() == before


def test_promotion_registers_in_the_target_group_and_rewrites_only_the_variant_arn(stacks, sagemaker):
    client, stubber = sagemaker
    before = (stacks / "Pulumi.staging.yaml").read_text()
    stubber.add_response("describe_model_package", described(), {"ModelPackageName": SOURCE_ARN})
    new_arn = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/15"
    stubber.add_response(
        "create_model_package",
        {"ModelPackageArn": new_arn},
        {
            # Registered in staging's own group (an endpoint serves only packages of its account), approved because
            # it was approved in dev; where it came from is recorded on the package.
            "ModelPackageGroupName": "churn-model",
            "ModelPackageDescription": f"Promoted from dev: {SOURCE_ARN}",
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE, "ModelDataUrl": MODEL_DATA}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelApprovalStatus": "Approved",
            "CustomerMetadataProperties": {"promoted_from": SOURCE_ARN, "source_environment": "dev"},
            "ClientToken": ANY,
        },
    )
    done = promote("churn-model", 15, to="staging", stacks_dir=stacks, sagemaker=lambda region: client)
    after = (stacks / "Pulumi.staging.yaml").read_text()
    assert done.target_arn == new_arn and done.diff == staging_diff(before)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [
        (
            f"          model_package_arn: arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/14",
            f"          model_package_arn: {new_arn}",
        )
    ]  # every comment and every other line kept


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


def test_several_variants_serving_the_model_need_a_choice(stacks, sagemaker):
    with pytest.raises(PromotionError) as refused:
        promote("churn-model", 20, to="prod", stacks_dir=stacks, sagemaker=pytest.fail)
    assert "churn/champion (12), churn/challenger (14)" in str(refused.value) and "--variant" in str(refused.value)

    client, stubber = sagemaker
    source = f"arn:aws:sagemaker:us-east-1:{STAGING}:model-package/churn-model/20"
    stubber.add_response("describe_model_package", described(arn=source), {"ModelPackageName": source})
    stubber.add_response("list_model_packages", {"ModelPackageSummaryList": []}, LATEST_QUERY)
    done = promote("churn-model", 20, to="prod", variant="challenger", stacks_dir=stacks, dry_run=True,
                   sagemaker=lambda region: client)  # fmt: skip
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
        "model 'fraud-model' is not in dev's registry.models (churn-model, demand-forecast)" in capsys.readouterr().err
    )
