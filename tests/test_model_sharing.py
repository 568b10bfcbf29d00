"""A promoted model is readable by the target's endpoints and by nobody else: the source grants its target accounts'
inference roles `models/` (bucket policy), decryption through S3 (key policy) and image pulls; the target's inference
role reads exactly its `promote_from_accounts`. Both halves are checked on the stack plans."""

from __future__ import annotations

import json

import pytest

from tests.conftest import as_list, plan_for, policy, statements

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
