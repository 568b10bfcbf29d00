"""Each environment end to end: the real program under mocks with its own stack file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from mlops_platform.infra.config import PROJECT
from mlops_platform.infra.tooling.offline import preview_stack, stack_config
from mlops_platform.infra.tooling.report import STATEFUL_TYPES

from tests.conftest import STACKS, plan_for

SNAPSHOT = Path(__file__).resolve().parent.parent / "snapshots" / "stateful-urns.json"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def config_of(stack: str, key: str):
    value = stack_config(stack)[f"{PROJECT}:{key}"]
    return json.loads(value) if value[:1] in "{[" else value


def test_every_aws_resource_uses_the_tagging_provider(stack_plan):
    providers = stack_plan.of_type("pulumi:providers:aws")
    # prod's disaster recovery adds a provider of the replica region, tagged and account-guarded the same way.
    assert sorted(p.name for p in providers) == (["aws", "aws-replica"] if stack_plan.stack == "prod" else ["aws"])
    expected = config_of(stack_plan.stack, "tags")
    for provider in providers:
        tags = provider.inputs["defaultTags"]
        tags = json.loads(tags) if isinstance(tags, str) else tags
        assert tags["tags"] == {
            "env": stack_plan.stack,
            "project": PROJECT,
            "team": expected["team"],
            "cost-center": expected["cost_center"],
        }
        assert json.loads(provider.inputs["allowedAccountIds"]) == [config_of(stack_plan.stack, "account")]
    aws_resources = [r for r in stack_plan.resources if r.custom and r.type.startswith("aws:")]
    assert aws_resources and all(
        r.provider == "aws" or (r.provider == "aws-replica" and r.name.startswith("disaster-recovery-"))
        for r in aws_resources
    )


def test_every_data_bucket_is_encrypted_with_the_env_key(stack_plan):
    key_arn = stack_plan.outputs["data_key_arn"]
    algorithms = {}
    for sse in stack_plan.of_type(SSE):
        if sse.name.startswith("disaster-recovery-"):
            continue  # replicas: the replica region's key (tests/stacks/test_governance_stacks.py)
        default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        algorithms[sse.name] = (default["sseAlgorithm"], default.get("kmsMasterKeyId"))
    assert algorithms.pop("datalake-access-logs-encryption") == ("AES256", None)
    assert set(algorithms.values()) == {("aws:kms", key_arn)}
    assert sorted(algorithms) == ["audit-bucket-encryption"] + [
        f"datalake-{zone}-encryption" for zone in ("artifacts", "curated", "features", "raw")
    ]


def test_stateful_resources_protected_exactly_when_configured(stack_plan):
    protection = json.loads(stack_config(stack_plan.stack).get(f"{PROJECT}:protection", "{}"))
    protect, retain = protection.get("protect_stateful", True), protection.get("retain_on_delete", True)
    stateful = [r for r in stack_plan.resources if r.type in STATEFUL_TYPES]
    # data lake (4 buckets, access logs, key) + audit bucket; prod's replicas: key, access logs, raw, artifacts.
    expected = 7 + (4 if stack_plan.stack == "prod" else 0)
    assert sum(r.type in ("aws:s3/bucket:Bucket", "aws:kms/key:Key") for r in stateful) == expected
    for resource in stateful:
        assert (resource.options["protect"], resource.options["retain_on_delete"]) == (protect, retain), resource.name


def test_prod_is_protected_locked_and_keeps_versions_longer():
    prod, dev = plan_for("prod"), plan_for("dev")
    assert all(
        r.options["protect"] and r.options["retain_on_delete"] for r in prod.resources if r.type in STATEFUL_TYPES
    )
    locks = {r.name for r in prod.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")}
    assert locks == {
        "datalake-raw-object-lock",
        "datalake-artifacts-object-lock",
        "audit-bucket-object-lock",
        "disaster-recovery-raw-object-lock",
        "disaster-recovery-artifacts-object-lock",
    }
    assert not dev.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")

    def noncurrent_days(plan):
        rules = plan.get(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "datalake-raw-lifecycle"
        ).inputs["rules"]
        return next(r for r in rules if r["id"] == "expire-noncurrent-versions")["noncurrentVersionExpiration"][
            "noncurrentDays"
        ]

    assert noncurrent_days(prod) > noncurrent_days(plan_for("staging")) > noncurrent_days(dev)
    assert all(not b.inputs.get("forceDestroy") for b in prod.of_type("aws:s3/bucket:Bucket"))


def test_physical_names_carry_the_environment(stack_plan):
    prefixes = {b.inputs["bucketPrefix"] for b in stack_plan.of_type("aws:s3/bucket:Bucket")}
    assert all(p.startswith(f"{PROJECT}-{stack_plan.stack}-") for p in prefixes)
    assert all(
        r.inputs["name"].startswith(f"{PROJECT}-{stack_plan.stack}-") for r in stack_plan.of_type("aws:iam/role:Role")
    )


def test_two_runs_give_identical_plan_json():
    assert preview_stack("staging").to_json() == preview_stack("staging").to_json()


def test_stateful_urns_match_the_snapshot():
    """A refactor that renames or re-parents a bucket or key would replace it: ship `aliases` instead.

    After an intended change (with aliases), regenerate with UPDATE_SNAPSHOTS=1.
    """
    current = {stack: sorted(r.urn for r in plan_for(stack).resources if r.type in STATEFUL_TYPES) for stack in STACKS}
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    for stack in STACKS:
        missing = sorted(set(expected[stack]) - set(current[stack]))
        assert not missing, f"{stack}: stateful resources would be replaced or deleted (add aliases): {missing}"
        assert current[stack] == expected[stack], f"{stack}: new stateful resources; regenerate with UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_expose_buckets_key_and_roles(stack):
    outputs = plan_for(stack).outputs
    assert set(outputs["buckets"]) == {"raw", "curated", "features", "artifacts"}
    assert outputs["roles"]["ci-deployer"].endswith(f":role/{PROJECT}-{stack}-ci-deployer")
