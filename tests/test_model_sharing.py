"""A promoted model is readable by the target's endpoints and by nobody else: the source grants its target accounts'
inference roles `models/` (bucket policy), decryption through S3 (key policy) and image pulls; the target's inference
role reads exactly its `promote_from_accounts`. The promotion itself runs as the target's model approver, who reads the
version's baseline objects in the source and writes their copies in its own bucket. Both halves are checked on the
stack plans."""

from __future__ import annotations

import fnmatch
import json

import pytest
from mlops_platform.infra.model_sharing import BASELINE_SOURCE_KEYS, PROMOTED_BASELINE_KEYS

from tests.conftest import REPO, as_list, plan_for, policy, statements
from tests.stacks.test_registry_monitoring import settings_for

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
TARGETS = {"dev": [STAGING, PROD], "staging": [PROD], "prod": []}
SOURCES = {"dev": [], "staging": [DEV], "prod": [STAGING]}


def _artifacts_policy(stack: str) -> list[dict]:
    plan = plan_for(stack)
    return statements(policy(plan.get("aws:s3/bucketPolicy:BucketPolicy", "datalake-artifacts-policy")))


@pytest.mark.parametrize("stack", list(TARGETS))
def test_the_source_lets_only_its_targets_inference_roles_read_models(stack):
    grants = [s for s in _artifacts_policy(stack) if s.get("Sid") == "PromotedModelsReadByTargets"]
    if not TARGETS[stack]:
        assert grants == []
        return
    [grant] = grants
    assert grant["Principal"]["AWS"] == [f"arn:aws:iam::{a}:root" for a in TARGETS[stack]]
    assert grant["Condition"]["ArnLike"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{a}:role/mlops-platform-*-inference" for a in TARGETS[stack]
    ]
    assert grant["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert grant["Resource"].endswith("/models/*")  # models only: no raw data, no data capture
    key = json.loads(plan_for(stack).get("aws:kms/key:Key", "data-key-key").inputs["policy"])
    [decrypt] = [s for s in statements(key) if s.get("Sid") == "PromotedModelsDecryptByTargets"]
    assert decrypt["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}


@pytest.mark.parametrize("stack", list(SOURCES))
def test_the_target_inference_role_reads_exactly_its_promotion_sources(stack):
    plan = plan_for(stack)
    role = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-inference-policy")))
    by_sid = {s["Sid"]: s for s in role}
    if not SOURCES[stack]:
        assert not {"PromotedS3", "PromotedKms", "PromotedEcr"} & set(by_sid)
        return
    [source] = SOURCES[stack]
    assert by_sid["PromotedS3"]["Condition"] == {"StringEquals": {"s3:ResourceAccount": source}}
    assert by_sid["PromotedS3"]["Resource"] == "arn:aws:s3:::mlops-platform-*-artifacts-*/models/*"
    assert as_list(by_sid["PromotedKms"]["Resource"]) == [f"arn:aws:kms:us-east-1:{source}:key/*"]
    assert by_sid["PromotedKms"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert as_list(by_sid["PromotedEcr"]["Resource"]) == [f"arn:aws:ecr:us-east-1:{source}:repository/mlops-platform-*"]
    # The persona boundary admits these reads (it caps the inference role), and stays a managed policy's size.
    boundary = policy(plan.get("aws:iam/policy:Policy", "personas-boundary"))
    assert {"PromotedS3", "PromotedKms", "PromotedEcr"} <= {s["Sid"] for s in statements(boundary)}
    assert len(json.dumps(boundary, separators=(",", ":"))) <= 6_144


@pytest.mark.parametrize("stack", list(TARGETS))
def test_the_source_lets_its_targets_read_the_baseline_objects_and_nothing_else(stack):
    """The promotion runs as a target administrator: the source's bucket policy lets the target accounts read the
    baselines a version references or the pipeline published (`BASELINE_SOURCE_KEYS`; their own IAM decides who),
    its key policy lets them decrypt them through S3; no model artifact, data profile, prediction or captured
    request."""
    grants = [s for s in _artifacts_policy(stack) if s.get("Sid") == "PromotedBaselinesReadByPromoters"]
    key = json.loads(plan_for(stack).get("aws:kms/key:Key", "data-key-key").inputs["policy"])
    decrypts = [s for s in statements(key) if s.get("Sid") == "PromotedBaselinesDecryptByPromoters"]
    if not TARGETS[stack]:
        assert grants == [] and decrypts == []
        return
    [grant], [decrypt] = grants, decrypts
    approvers = [f"arn:aws:iam::{a}:role/*" for a in TARGETS[stack]]
    for statement in (grant, decrypt):
        assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{a}:root" for a in TARGETS[stack]]
        assert statement["Condition"]["ArnLike"]["aws:PrincipalArn"] == approvers
    assert grant["Action"] == "s3:GetObject"
    bucket = plan_for(stack).outputs["buckets"]["artifacts"]
    assert grant["Resource"] == [f"arn:aws:s3:::{bucket}/{pattern}" for pattern in BASELINE_SOURCE_KEYS]
    for elsewhere in ("models/churn-model/15/model.tar.gz", "pipelines/p/run/predictions/test.csv",
                      "pipelines/p/data-profile/profile.json", "data-capture/churn/2026/12/01/00/x.jsonl"):  # fmt: skip
        assert not any(fnmatch.fnmatchcase(elsewhere, pattern) for pattern in BASELINE_SOURCE_KEYS)
    assert decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}


@pytest.mark.parametrize("stack", list(SOURCES))
def test_the_model_approver_never_authors_a_version_or_writes_what_inference_reads(stack):
    """Promotion is an administrator's act: a persona that could write where inference reads *and* register an
    approved version could serve a model of its own making alone. The approver approves; it gets no promotion
    grant in any environment."""
    plan = plan_for(stack)
    role = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-model-approver-policy")))
    assert not [s for s in role if s["Sid"].startswith("Promote")]
    for s in role:
        assert "sagemaker:CreateModelPackage" not in as_list(s["Action"]), s
        assert "s3:PutObject" not in as_list(s["Action"]), s


def test_the_promotion_doc_lists_exactly_the_keys_the_policies_grant():
    table = (REPO / "docs" / "promotion.md").read_text().split("#### Who may do what", 1)[1]
    [source_row] = [line for line in table.splitlines() if line.startswith("| source, artifacts bucket policy")]
    assert [cell.strip("` ") for cell in source_row.split("|")[3].split(",")] == list(BASELINE_SOURCE_KEYS)
    [write_row] = [line for line in table.splitlines() if "`s3:PutObject`" in line]
    assert all(f"`{key}`" in write_row for key in PROMOTED_BASELINE_KEYS)


@pytest.mark.parametrize("stack", list(SOURCES))
def test_the_promoting_administrator_may_use_the_env_key_through_s3_in_the_artifacts_bucket_only(stack):
    """The key's administrators never use it; `registry.promoter_role_arns` (who runs promote) may encrypt and
    decrypt through S3, with S3's encryption context naming the artifacts bucket, to write the baseline copies.
    Evaluated on the planned key policy, the promoter holding `*:*` in IAM (an administrator)."""
    from mlops_platform.policies.iam_eval import Decision, Principal, Request, evaluate

    plan, settings = plan_for(stack), settings_for(stack)
    key_policy = json.loads(plan.get("aws:kms/key:Key", "data-key-key").inputs["policy"])
    key = plan.outputs["data_key_arn"]
    admin_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    artifacts = plan.outputs["buckets"]["artifacts"]

    def decide(principal_arn: str, action: str, bucket: str, service: str = "s3") -> Decision:
        context = {"kms:ViaService": f"{service}.us-east-1.amazonaws.com",
                   "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{bucket}"}  # fmt: skip
        request = Request(principal_arn, action, key, context)
        return evaluate(Principal(principal_arn, [admin_policy]), request, key_policy=key_policy).decision

    promoters = settings.registry.promoter_role_arns
    if not SOURCES[stack]:
        assert promoters == []  # nothing is promoted into dev
        return
    [promoter] = promoters
    assert decide(promoter, "kms:GenerateDataKey", artifacts) is Decision.ALLOW
    assert decide(promoter, "kms:Decrypt", artifacts) is Decision.ALLOW
    assert decide(promoter, "kms:GenerateDataKey", plan.outputs["buckets"]["raw"]) is not Decision.ALLOW
    assert decide(promoter, "kms:Decrypt", artifacts, service="sqs") is not Decision.ALLOW
    other_admin = f"arn:aws:iam::{settings.account}:role/some-other-admin"
    assert decide(other_admin, "kms:GenerateDataKey", artifacts) is not Decision.ALLOW
