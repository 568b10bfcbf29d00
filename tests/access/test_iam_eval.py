"""The IAM evaluator on its own, against AWS's documented evaluation rules."""

from __future__ import annotations

import pytest
from mlops_platform.policies.iam_eval import Decision, Principal, Request, conditions_hold, decide

ROLE = "arn:aws:iam::111111111111:role/r"
ROOT = "arn:aws:iam::111111111111:root"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", condition=None, **extra):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    return {**statement, "Condition": condition} if condition else statement


def deny(action, resource="*", condition=None):
    return {**allow(action, resource, condition), "Effect": "Deny"}


def ask(policies, action, resource="*", context=None, boundary=None, key_policy=None):
    return decide(Principal(ROLE, policies, boundary), Request(ROLE, action, resource, context or {}),
                  key_policy=key_policy)  # fmt: skip


def test_nothing_allowed_is_an_implicit_deny():
    assert ask([], "s3:GetObject") is Decision.IMPLICIT_DENY


def test_wildcard_actions_match_case_insensitively_and_explicit_deny_wins():
    policies = [doc(allow("S3:Get*", "arn:aws:s3:::b/*")), doc(deny("s3:GetObject", "arn:aws:s3:::b/secret/*"))]
    assert ask(policies, "s3:getobject", "arn:aws:s3:::b/x") is Decision.ALLOW
    assert ask(policies, "s3:GetObject", "arn:aws:s3:::b/secret/x") is Decision.EXPLICIT_DENY


def test_not_action_and_not_resource():
    policies = [doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::private/*"})]
    assert ask(policies, "s3:GetObject", "arn:aws:s3:::public/x") is Decision.ALLOW
    assert ask(policies, "s3:GetObject", "arn:aws:s3:::private/x") is Decision.IMPLICIT_DENY
    assert ask(policies, "iam:CreateUser") is Decision.IMPLICIT_DENY


def test_boundary_caps_identity_policies_and_grants_nothing_itself():
    boundary = doc(allow("s3:GetObject"))
    assert ask([doc(allow("*"))], "s3:GetObject", boundary=boundary) is Decision.ALLOW
    assert ask([doc(allow("*"))], "iam:CreateUser", boundary=boundary) is Decision.IMPLICIT_DENY
    assert ask([], "s3:GetObject", boundary=boundary) is Decision.IMPLICIT_DENY
    assert ask([doc(allow("*"))], "s3:GetObject", boundary=doc(allow("*"), deny("s3:*"))) is Decision.EXPLICIT_DENY


@pytest.mark.parametrize(
    ("condition", "context", "holds"),
    [
        ({"StringEquals": {"aws:RequestTag/env": "dev"}}, {"aws:RequestTag/env": "dev"}, True),
        ({"StringEquals": {"aws:RequestTag/env": "dev"}}, {"aws:requesttag/env": "dev"}, True),  # keys ignore case
        ({"StringEquals": {"aws:RequestTag/env": "dev"}}, {}, False),  # missing key: false
        ({"StringNotEquals": {"aws:ResourceTag/env": "dev"}}, {}, True),  # missing key, negated: true
        ({"StringEqualsIfExists": {"aws:ResourceTag/env": "dev"}}, {}, True),
        ({"StringEqualsIfExists": {"aws:ResourceTag/env": "dev"}}, {"aws:ResourceTag/env": "prod"}, False),
        ({"StringLike": {"s3:prefix": ["teams/a/*"]}}, {"s3:prefix": "teams/a/x"}, True),
        ({"StringLike": {"s3:prefix": ["teams/a/*"]}}, {"s3:prefix": "teams/b/x"}, False),
        ({"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/p-*"}}, {"iam:PolicyARN": "arn:aws:iam::1:policy/p-x"},
         True),
        ({"ArnEquals": {"aws:SourceArn": ["arn:a", "arn:b"]}}, {"aws:SourceArn": "arn:b"}, True),
        ({"Bool": {"kms:GrantIsForAWSResource": "true"}}, {"kms:GrantIsForAWSResource": True}, True),
        ({"Bool": {"kms:GrantIsForAWSResource": "true"}}, {"kms:GrantIsForAWSResource": False}, False),
        ({"Null": {"aws:ResourceTag/env": "true"}}, {}, True),
        ({"Null": {"aws:ResourceTag/env": "false"}}, {}, False),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}}, {"aws:TagKeys": ["env"]}, True),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["env", "owner"]}, False),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, {"aws:TagKeys": ["owner", "env"]}, True),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}}, {}, False),
        # Two operators AND; values within one key OR.
        ({"StringEquals": {"a:k": ["1", "2"]}, "Null": {"b:k": "false"}}, {"a:k": "2", "b:k": "x"}, True),
        ({"StringEquals": {"a:k": ["1", "2"]}, "Null": {"b:k": "false"}}, {"a:k": "2"}, False),
    ],
)  # fmt: skip
def test_condition_operators(condition, context, holds):
    assert conditions_hold(condition, Request(ROLE, "x:Y", "*", context)) is holds


def test_arn_like_matches_segment_by_segment():
    policies = [doc(allow("iam:PutRolePolicy", "arn:aws:iam::111111111111:role/p-*"))]
    assert ask(policies, "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/p-x") is Decision.ALLOW
    assert ask(policies, "iam:PutRolePolicy", "arn:aws:iam::222222222222:role/p-x") is Decision.IMPLICIT_DENY


def test_kms_key_policy_must_allow_and_root_delegation_needs_iam_too():
    key = "arn:aws:kms:us-east-1:111111111111:key/k"
    named = doc(allow("kms:Decrypt", Principal={"AWS": ROLE}))
    delegated = doc(allow("kms:Decrypt", Principal={"AWS": ROOT}, condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}))
    iam = [doc(allow("kms:Decrypt", key))]
    assert ask([], "kms:Decrypt", key, key_policy=named) is Decision.ALLOW  # named in the key policy
    assert ask([], "kms:Decrypt", key, key_policy=delegated) is Decision.IMPLICIT_DENY  # root: IAM must allow
    assert ask(iam, "kms:Decrypt", key, key_policy=delegated) is Decision.ALLOW
    assert ask(iam, "kms:Decrypt", key, key_policy=doc()) is Decision.IMPLICIT_DENY  # IAM alone is not enough


def test_unsupported_operators_are_refused_not_guessed():
    with pytest.raises(ValueError, match="NumericLessThan"):
        conditions_hold({"NumericLessThan": {"s3:max-keys": "10"}}, Request(ROLE, "x:Y", "*", {"s3:max-keys": "5"}))


# --- resource control policies and resource-policy decisions (the data perimeter) -----------------------------------

ORG = "o-a1b2c3d4e5"
OUTSIDE = "arn:aws:iam::999999999999:role/outsider"
PERIMETER_RCP = doc({
    "Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": ["s3:*", "sts:AssumeRole"],
    "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG},
                                   "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}},
})  # fmt: skip
"""The identity statement of AWS's data perimeter example, for two actions."""
BUCKET_FOR_OUTSIDER = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})  # fmt: skip


def from_outside(context, *, rcps=(PERIMETER_RCP,), caller_policies=None, principal=OUTSIDE):
    from mlops_platform.policies.iam_eval import evaluate_resource_policy

    caller = Principal(principal, caller_policies if caller_policies is not None else [doc(allow("*"))])
    request = Request(principal, "s3:GetObject", "arn:aws:s3:::b/x", context)
    return evaluate_resource_policy(request, BUCKET_FOR_OUTSIDER, resource_account="111111111111", caller=caller,
                                    rcps=rcps).decision  # fmt: skip


def test_another_account_needs_the_resource_policy_and_its_own_policies():
    assert from_outside({}, rcps=()) is Decision.ALLOW  # what a rewritten bucket policy admits without an RCP
    assert from_outside({}, rcps=(), caller_policies=[]) is Decision.IMPLICIT_DENY
    assert from_outside({}, rcps=(), principal="arn:aws:iam::888888888888:role/r") is Decision.IMPLICIT_DENY


def test_the_rcp_denies_principals_of_another_organisation_of_none_and_anonymous_ones():
    other_org = {"aws:PrincipalOrgID": "o-f0reign0000", "aws:PrincipalIsAWSService": False}
    assert from_outside(other_org) is Decision.EXPLICIT_DENY
    assert from_outside({"aws:PrincipalIsAWSService": False}) is Decision.EXPLICIT_DENY  # an account in no org
    assert from_outside({}) is Decision.EXPLICIT_DENY  # unsigned: neither key is in the context


def test_the_rcp_lets_the_organisation_through_and_is_not_a_grant():
    member = {"aws:PrincipalOrgID": ORG, "aws:PrincipalIsAWSService": False}
    assert from_outside(member) is Decision.ALLOW
    assert from_outside(member, caller_policies=[]) is Decision.IMPLICIT_DENY


def test_the_rcp_applies_to_same_account_requests_and_never_to_service_linked_roles():
    from mlops_platform.policies.iam_eval import evaluate, rcp_denies

    request = Request(ROLE, "s3:GetObject", "arn:aws:s3:::b/x", {"aws:PrincipalIsAWSService": False})
    assert evaluate(Principal(ROLE, [doc(allow("*"))]), request, rcps=[PERIMETER_RCP]).decision is (
        Decision.EXPLICIT_DENY
    )  # a principal outside the organisation's accounts would carry no aws:PrincipalOrgID
    linked = "arn:aws:iam::111111111111:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    assert rcp_denies([PERIMETER_RCP], Request(linked, "s3:GetObject", "arn:aws:s3:::b/x", {})) == []


def test_services_and_web_identity_are_decided_by_the_resource_policy_alone():
    from mlops_platform.policies.iam_eval import evaluate_resource_policy

    trust = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
                 "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}},
                {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/idp"},
                 "Action": "sts:AssumeRoleWithWebIdentity"})  # fmt: skip

    def assume(caller, kind, action, context):
        request = Request(caller, action, ROLE, context)
        return evaluate_resource_policy(request, trust, resource_account="111111111111", principal_type=kind,
                                        rcps=[PERIMETER_RCP]).decision  # fmt: skip

    service = {"aws:PrincipalIsAWSService": True, "aws:SourceAccount": "111111111111"}
    assert assume("sagemaker.amazonaws.com", "Service", "sts:AssumeRole", service) is Decision.ALLOW
    other_account = {**service, "aws:SourceAccount": "222222222222"}
    assert assume("sagemaker.amazonaws.com", "Service", "sts:AssumeRole", other_account) is Decision.IMPLICIT_DENY
    assert assume("ec2.amazonaws.com", "Service", "sts:AssumeRole", service) is Decision.IMPLICIT_DENY
    # No aws:PrincipalOrgID in a web-identity request: the RCP names only sts:AssumeRole, so federation passes.
    provider = "arn:aws:iam::111111111111:oidc-provider/idp"
    assert assume(provider, "Federated", "sts:AssumeRoleWithWebIdentity", {}) is Decision.ALLOW
    with pytest.raises(ValueError, match="another account"):
        evaluate_resource_policy(Request(ROLE, "s3:GetObject", "arn:aws:s3:::b/x"), BUCKET_FOR_OUTSIDER,
                                 resource_account="111111111111", caller=Principal(ROLE, []))  # fmt: skip
