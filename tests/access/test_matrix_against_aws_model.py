"""The matrix and the policies speak AWS's vocabulary: every action exists and every condition key is one AWS
documents for it (policy_sentry's copy of the Service Authorization Reference), so no row passes by testing a
key AWS never sets, and no policy condition is a typo that silently never matches."""

from __future__ import annotations

import json
from functools import cache

import pytest
from mlops_platform.policies.access_matrix import ROWS
from policy_sentry.querying.actions import get_action_data

from tests.conftest import STACKS, plan_for

GLOBAL_PREFIXES = ("aws:",)


@cache
def action_keys(action: str) -> frozenset[str] | None:
    """Condition keys AWS documents for `service:Action` (lower case); None if the action does not exist."""
    service, name = action.split(":")
    rows = [r for r in get_action_data(service, name).get(service, []) if r["action"].lower() == action.lower()]
    if not rows:
        return None
    return frozenset(k.lower() for r in rows for k in r["condition_keys"])


def documented(key: str, keys: frozenset[str]) -> bool:
    """`key` is among `keys`, templates matching any name in their place: tag keys (`aws:RequestTag/${TagKey}`)
    and encryption-context keys (`kms:EncryptionContext:${EncryptionContextKey}`, e.g. `...:aws:s3:arn`)."""
    key = key.lower()
    return key in keys or any(
        k.endswith("}") and "${" in k and key.startswith(head := k.split("${")[0]) and len(key) > len(head)
        for k in keys
    )


KUBERNETES_VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
"""The Kubernetes API's request verbs (Kubernetes docs, "Authorization": "Determine the request verb")."""


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_row_actions_exist_and_use_documented_condition_keys(row):
    if row.action.startswith("k8s:"):  # a Kubernetes API request (policies.k8s_access decides it), not an IAM action
        assert row.action.removeprefix("k8s:") in KUBERNETES_VERBS and not row.context, row.id
        return
    keys = action_keys(row.action)
    assert keys is not None, f"{row.action} is not an AWS action"
    for key in row.context:
        if key.startswith(GLOBAL_PREFIXES) and not key.lower().startswith(("aws:requesttag", "aws:resourcetag")):
            continue  # global keys (aws:ResourceAccount, aws:PrincipalArn) exist for every action
        assert documented(key, keys), f"{row.id}: {row.action} has no condition key {key}"


def _allows(plan):
    for resource in plan.resources:
        text = resource.inputs.get("policy")
        if resource.type in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy") and isinstance(text, str):
            for statement in json.loads(text)["Statement"]:
                yield resource.name, statement


@pytest.mark.parametrize("stack", STACKS)
def test_every_service_condition_key_in_the_stacks_policies_applies_to_one_of_its_actions(stack):
    problems = []
    for name, statement in _allows(plan_for(stack)):
        actions = statement.get("Action", [])
        actions = [a for a in (actions if isinstance(actions, list) else [actions]) if "*" not in a]
        known = [action_keys(a) for a in actions]
        if not actions or any(k is None for k in known):
            continue
        for operator, pairs in (statement.get("Condition") or {}).items():
            for key in pairs:
                if key.startswith(GLOBAL_PREFIXES) and not key.lower().startswith(
                    ("aws:requesttag", "aws:resourcetag")
                ):
                    continue
                if not any(documented(key, k) for k in known if k is not None):
                    problems.append(f"{name}/{statement.get('Sid')}: {operator} {key} applies to none of {actions}")
    assert problems == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_action_the_stacks_allow_exists(stack):
    unknown = set()
    for _, statement in _allows(plan_for(stack)):
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if "*" not in action and action_keys(action) is None:
                unknown.add(action)
    assert unknown == set()


def test_the_key_check_tells_documented_keys_from_typos():
    assert documented("kms:ViaService", action_keys("kms:Decrypt"))
    assert not documented("kms:ViaServices", action_keys("kms:Decrypt"))
    assert documented("kms:EncryptionContext:aws:s3:arn", action_keys("kms:Decrypt"))  # S3's context key
    assert not documented("kms:EncryptionContex:aws:s3:arn", action_keys("kms:Decrypt"))
    assert not documented("kms:EncryptionContext:", action_keys("kms:Decrypt"))
    assert documented("aws:RequestTag/env", action_keys("kms:CreateKey"))
    assert documented("iam:PermissionsBoundary", action_keys("iam:PutRolePolicy"))
    assert not documented("iam:PermissionsBoundary", action_keys("iam:TagRole"))
    assert action_keys("iam:CreateRoleWithAdmin") is None
