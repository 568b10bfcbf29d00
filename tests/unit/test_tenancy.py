"""Tenancy: per-team namespace fenced by quota, limits, default-deny network policy and RBAC; a Pod Identity role
limited to the team's prefixes; Kueue queues with nominal quota and borrowing limits."""

from __future__ import annotations

import functools

import pulumi_kubernetes as k8s
import pytest
from mlops_platform.components.tenancy import COHORT, LOCAL_QUEUE, Team, Tenancy
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements
from tests.k8s import as_manifest, crd_problems, schema_problems

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/p-dev-training"
BUCKETS = {zone: f"arn:aws:s3:::p-dev-{zone}" for zone in ("raw", "curated", "features", "artifacts")}
MEMBER = f"arn:aws:iam::{ACCOUNT}:role/vision-member"
S3_RANGES = ["192.0.2.0/24", "203.0.113.0/24"]
TEAMS = (
    Team("vision", "small", 4, "64", "512Gi", borrowing_limit_gpus=2, member_role_arns=(MEMBER,)),
    Team("nlp", "small", 4, "32", "256Gi", s3_prefix="research/nlp/"),
)


def tenancy(teams=TEAMS):
    provider = k8s.Provider("k8s", kubeconfig="{}")
    return Tenancy(
        "tenancy",
        {
            "cluster_name": "p-dev-training",
            "cluster_arn": CLUSTER_ARN,
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "name_prefix": "p-dev",
            "k8s_provider": provider,
            "kms_key_arn": KEY,
            "bucket_arns": BUCKETS,
            "vpc_cidr": "10.10.0.0/16",
            "s3_cidr_blocks": S3_RANGES,
            "gpu_pools": ["small", "large"],
            "teams": list(teams),
        },
    )


@functools.cache
def default_plan():
    return record(lambda: tenancy() and None)


def test_quota_caps_gpus_at_nominal_plus_borrowing_and_limit_range_sets_defaults():
    plan = default_plan()
    hard = plan.get("kubernetes:core/v1:ResourceQuota", "tenancy-vision-quota").inputs["spec"]["hard"]
    assert hard == {"requests.nvidia.com/gpu": "6", "requests.cpu": "64", "requests.memory": "512Gi"}
    [limits] = plan.get("kubernetes:core/v1:LimitRange", "tenancy-vision-limits").inputs["spec"]["limits"]
    assert limits["type"] == "Container" and set(limits["defaultRequest"]) == {"cpu", "memory"}


def test_network_policy_denies_by_default_and_allows_dns_vpc_identity_agent_and_the_namespace():
    plan = default_plan()
    deny = plan.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "tenancy-vision-default-deny").inputs["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    allow = plan.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "tenancy-vision-allow-training").inputs["spec"]
    assert allow["ingress"] == [{"from": [{"podSelector": {}}]}]  # only the team's own pods (DDP)
    cidrs = {
        peer["ipBlock"]["cidr"]: rule["ports"] for rule in allow["egress"] for peer in rule["to"] if "ipBlock" in peer
    }
    https = [{"protocol": "TCP", "port": 443}]
    # Pod Identity agent on 80; the VPC (interface endpoints) and S3 (through its gateway endpoint) on 443 only.
    assert cidrs == {
        "169.254.170.23/32": [{"protocol": "TCP", "port": 80}],
        "10.10.0.0/16": https,
        "192.0.2.0/24": https,
        "203.0.113.0/24": https,
    }
    dns = next(rule for rule in allow["egress"] if any("namespaceSelector" in peer for peer in rule["to"]))
    assert {p["port"] for p in dns["ports"]} == {53}


def test_team_role_trust_is_pinned_to_the_cluster_namespace_and_service_account():
    plan = default_plan()
    role = plan.get("aws:iam/role:Role", "tenancy-vision-training-role")
    [trust] = statements(policy(role, "assumeRolePolicy"))
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "aws:RequestTag/kubernetes-namespace": "vision",
        "aws:RequestTag/kubernetes-service-account": "training",
    }
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": CLUSTER_ARN}
    assert role.inputs["permissionsBoundary"] == f"arn:aws:iam::{ACCOUNT}:policy/p-dev-team-boundary"
    association = plan.get("aws:eks/podIdentityAssociation:PodIdentityAssociation", "tenancy-vision-pod-identity")
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == ("vision", "training")


@pytest.mark.parametrize(("team", "prefix"), [("vision", "teams/vision/"), ("nlp", "research/nlp/")])
def test_team_role_reaches_only_its_own_prefix(team, prefix):
    doc = statements(policy(default_plan().get("aws:iam/rolePolicy:RolePolicy", f"tenancy-{team}-training-policy")))
    objects = [r for s in doc if s["Sid"].endswith("Objects") for r in as_list(s["Resource"])]
    assert sorted(objects) == sorted(f"{arn}/{prefix}*" for arn in BUCKETS.values())
    listings = [s for s in doc if s["Sid"].endswith("List")]
    assert all(s["Condition"] == {"StringLike": {"s3:prefix": [f"{prefix}*"]}} for s in listings)
    writes = {s["Resource"].split(":::")[1].split("/")[0] for s in doc if "s3:PutObject" in as_list(s["Action"])}
    assert writes == {"p-dev-features", "p-dev-artifacts"}  # raw and curated are read-only


def test_boundary_covers_every_team_prefix_and_denies_identity_changes():
    doc = statements(policy(default_plan().get("aws:iam/policy:Policy", "tenancy-boundary")))
    objects = next(s for s in doc if s["Sid"] == "TeamObjects")["Resource"]
    assert f"{BUCKETS['raw']}/research/nlp/*" in objects and f"{BUCKETS['raw']}/teams/vision/*" in objects
    assert any(s["Effect"] == "Deny" and "iam:*" in s["Action"] for s in doc)


def test_members_map_to_the_team_group_bound_to_a_role_without_secrets():
    plan = default_plan()
    entry = plan.get("aws:eks/accessEntry:AccessEntry", "tenancy-vision-member-0").inputs
    assert entry["principalArn"] == MEMBER and entry["kubernetesGroups"] == ["team-vision"]
    binding = plan.get("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "tenancy-vision-binding").inputs
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "team-vision"}]
    rules = plan.get("kubernetes:rbac.authorization.k8s.io/v1:Role", "tenancy-vision-role").inputs["rules"]
    resources = {r for rule in rules for r in rule["resources"]}
    assert "jobs" in resources and not resources & {"secrets", "roles", "rolebindings", "resourcequotas/status"}
    assert all("*" not in rule["verbs"] for rule in rules)


def test_kueue_queues_give_nominal_quota_borrowing_and_a_local_queue_per_team():
    plan = default_plan()
    spec = plan.get("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "tenancy-vision-cluster-queue").inputs["spec"]
    assert spec["cohort"] == COHORT
    assert spec["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "vision"}}
    [group] = spec["resourceGroups"]
    [flavor] = group["flavors"]
    gpu = next(r for r in flavor["resources"] if r["name"] == "nvidia.com/gpu")
    assert flavor["name"] == "small" and (gpu["nominalQuota"], gpu["borrowingLimit"]) == (4, 2)
    local = plan.get("kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", "tenancy-vision-local-queue").inputs
    assert (
        local["metadata"] == {"namespace": "vision", "name": LOCAL_QUEUE} and local["spec"]["clusterQueue"] == "vision"
    )
    flavors = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in plan.of_type("kubernetes:kueue.x-k8s.io/v1beta1:ResourceFlavor")
    }
    assert set(flavors) == {"small", "large"}
    assert flavors["small"]["nodeLabels"] == {"mlops.platform/gpu-pool": "small"}
    assert flavors["small"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_every_object_validates_against_its_schema():
    problems = []
    for resource in default_plan().resources:
        if not resource.type.startswith("kubernetes:") or resource.type == "kubernetes:helm.sh/v3:Release":
            continue
        manifest = as_manifest(resource)
        custom = resource.type.startswith("kubernetes:kueue.x-k8s.io/")
        problems += crd_problems(manifest) if custom else schema_problems(manifest, "1.35")
    assert problems == []


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ((TEAMS[0], TEAMS[0]), "duplicate team name(s) ['vision']"),
        ((Team("Vision", "small", 1, "1", "1Gi"),), "must be a DNS-1123 label"),
        ((Team("cv", "huge", 1, "1", "1Gi"),), "uses gpu_pool 'huge'"),
    ],
)
def test_bad_teams_fail_before_anything_is_registered(teams, message):
    errors = []

    def program():
        try:
            tenancy(teams)
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert message in errors[0]
    assert [r.type for r in plan.resources] == ["pulumi:providers:kubernetes"]
