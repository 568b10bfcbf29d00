"""The GPU training platform of each environment, end to end from its stack file: exposure, encryption, IMDS,
taints, quotas, scale to zero, per-team Pod Identity, and every Kubernetes object valid for the cluster's version."""

from __future__ import annotations

import ipaddress
import json

import pytest
from mlops_platform.infra.tooling.offline import MOCK_GATEWAY_CIDRS, stack_config
from mlops_platform.infra.tooling.report import key_settings, markdown

from tests.conftest import STACKS, as_list, plan_for, policy, statements
from tests.k8s import as_manifest, kubernetes_objects, problems

CLUSTER = "aws:eks/cluster:Cluster"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def training_config(stack: str) -> dict:
    return json.loads(stack_config(stack)["mlops-platform:training"])


def cluster(stack: str):
    [found] = plan_for(stack).of_type(CLUSTER)
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_api_endpoint_is_private_or_open_only_to_listed_public_networks(stack):
    vpc = cluster(stack).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    listed = training_config(stack).get("public_access_cidrs", [])
    assert vpc["endpointPublicAccess"] is bool(listed)
    assert vpc.get("publicAccessCidrs", []) == sorted(listed)
    assert all(ipaddress.ip_network(c).prefixlen > 0 for c in vpc.get("publicAccessCidrs", []))
    assert (stack == "dev") == bool(listed)  # only dev opts in, from the office VPN range


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_logs_and_node_volumes_use_the_env_key(stack):
    plan = plan_for(stack)
    inputs = cluster(stack).inputs
    [key] = [k for k in plan.of_type("aws:kms/key:Key") if k.name == "data-key-key"]
    key_arn = inputs["encryptionConfig"]["provider"]["keyArn"]
    assert key_arn.startswith("arn:aws:kms:") and inputs["encryptionConfig"]["resources"] == ["secrets"]
    logs = plan.get("aws:cloudwatch/logGroup:LogGroup", "training-control-plane-logs").inputs
    template = plan.get("aws:ec2/launchTemplate:LaunchTemplate", "training-system-nodes").inputs
    volumes = [c.inputs["spec"]["blockDeviceMappings"][0]["ebs"] for c in plan.of_type(NODE_CLASS)]
    assert {logs["kmsKeyId"], template["blockDeviceMappings"][0]["ebs"]["kmsKeyId"]} == {key_arn}
    assert {v["kmsKeyID"] for v in volumes} == {key_arn} and all(v["encrypted"] for v in volumes)
    # ... and the key policy lets exactly the training roles that need it use it.
    users = next(s for s in statements(policy(key)) if s["Sid"] == "KeyUseByPlatformRolesThroughServices")
    principals = users["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    prefix = f"mlops-platform-{stack}"
    for role in ("training-cluster", "training-ebs-csi", "training-karpenter"):
        assert any(p.endswith(f":role/{prefix}-{role}") for p in principals), role
    assert any(p.endswith("/AWSServiceRoleForAutoScaling") for p in principals)
    assert all(
        any(p.endswith(f":role/{prefix}-team-{t['name']}") for p in principals) for t in training_config(stack)["teams"]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_node_requires_imdsv2(stack):
    plan = plan_for(stack)
    for template in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        assert template.inputs["metadataOptions"]["httpTokens"] == "required"
        assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    classes = plan.of_type(NODE_CLASS)
    assert classes
    for node_class in classes:
        options = node_class.inputs["spec"]["metadataOptions"]
        assert (options["httpTokens"], options["httpPutResponseHopLimit"]) == ("required", 1)


@pytest.mark.parametrize("stack", STACKS)
def test_gpu_pools_are_tainted_limited_and_scale_to_zero(stack):
    pools = {p.inputs["metadata"]["name"]: p.inputs["spec"] for p in plan_for(stack).of_type(NODE_POOL)}
    configured = {p["name"]: p for p in training_config(stack)["gpu_pools"]}
    assert set(pools) == set(configured)
    for name, spec in pools.items():
        assert {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"} in spec["template"]["spec"]["taints"]
        assert spec["limits"] == {"nvidia.com/gpu": str(configured[name]["max_gpus"])}
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert spec["disruption"]["consolidateAfter"] == configured[name].get("consolidate_after", "10m")


@pytest.mark.parametrize("stack", STACKS)
def test_spot_only_outside_prod(stack):
    capacity = {
        value
        for pool in plan_for(stack).of_type(NODE_POOL)
        for requirement in pool.inputs["spec"]["template"]["spec"]["requirements"]
        if requirement["key"] == "karpenter.sh/capacity-type"
        for value in requirement["values"]
    }
    assert capacity == ({"spot", "on-demand"} if stack == "dev" else {"on-demand"})


def test_prod_has_an_efa_pool_in_a_cluster_placement_group_and_deletion_protection():
    plan = plan_for("prod")
    [group] = plan.of_type("aws:ec2/placementGroup:PlacementGroup")
    assert group.inputs["strategy"] == "cluster"
    selectors = [c.inputs["spec"].get("placementGroupSelector") for c in plan.of_type(NODE_CLASS)]
    assert {"name": group.inputs["name"]} in selectors
    assert cluster("prod").inputs["deletionProtection"] is True and cluster("prod").options["protect"]
    assert cluster("dev").inputs["deletionProtection"] is False and not cluster("dev").options["protect"]


@pytest.mark.parametrize("stack", STACKS)
def test_each_team_gets_its_quota_queue_and_a_role_scoped_to_its_namespace_and_prefix(stack):
    plan = plan_for(stack)
    for team in training_config(stack)["teams"]:
        name = team["name"]
        hard = plan.get("kubernetes:core/v1:ResourceQuota", f"tenancy-{name}-quota").inputs["spec"]["hard"]
        assert hard["requests.nvidia.com/gpu"] == str(team["gpu_quota"] + team.get("borrowing_limit_gpus", 0))
        queue = plan.get("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", f"tenancy-{name}-cluster-queue")
        gpu = next(
            r
            for r in queue.inputs["spec"]["resourceGroups"][0]["flavors"][0]["resources"]
            if r["name"] == "nvidia.com/gpu"
        )
        assert gpu["nominalQuota"] == team["gpu_quota"]
        role = plan.get("aws:iam/role:Role", f"tenancy-{name}-training-role")
        [trust] = statements(policy(role, "assumeRolePolicy"))
        assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == name
        assert role.inputs["permissionsBoundary"]
        doc = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", f"tenancy-{name}-training-policy")))
        objects = [r for s in doc if s["Sid"].endswith("Objects") for r in as_list(s["Resource"])]
        assert objects and all(r.endswith(f"/{team.get('s3_prefix', f'teams/{name}/')}*") for r in objects)


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_is_open_to_the_internet(stack):
    plan = plan_for(stack)
    for rule in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0"
    for network_policy in plan.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy"):
        spec = network_policy.inputs["spec"]
        peers = [
            p for rule in spec.get("ingress", []) + spec.get("egress", []) for p in rule.get("from", rule.get("to", []))
        ]
        assert all(p.get("ipBlock", {}).get("cidr") != "0.0.0.0/0" for p in peers)
    assert "0.0.0.0/0" not in cluster(stack).inputs["vpcConfig"].get("publicAccessCidrs", [])


@pytest.mark.parametrize("stack", STACKS)
def test_team_pods_reach_s3_through_the_vpcs_gateway_endpoint_ranges(stack):
    plan = plan_for(stack)
    for team in training_config(stack)["teams"]:
        spec = plan.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", f"tenancy-{team['name']}-allow-training")
        https = {
            p["ipBlock"]["cidr"]
            for rule in spec.inputs["spec"]["egress"]
            if rule.get("ports") == [{"protocol": "TCP", "port": 443}]
            for p in rule["to"]
            if "ipBlock" in p
        }
        assert set(MOCK_GATEWAY_CIDRS) <= https  # the mocked S3 gateway endpoint's cidr_blocks


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_clusters_provider(stack):
    plan = plan_for(stack)
    [provider] = plan.of_type("pulumi:providers:kubernetes")
    kubernetes = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(kubernetes) > 20 and {r.provider for r in kubernetes} == {provider.name}


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_validates_for_the_clusters_version(stack):
    version = cluster(stack).inputs["version"]
    objects = kubernetes_objects(plan_for(stack))
    kinds = {r.inputs["kind"] for r in objects}
    assert {"Namespace", "ResourceQuota", "NetworkPolicy", "NodePool", "ClusterQueue", "LocalQueue"} <= kinds
    found = [problem for resource in objects for problem in problems(as_manifest(resource), version)]
    assert found == []


def test_validation_catches_a_broken_object():
    namespace = next(r for r in kubernetes_objects(plan_for("dev")) if r.inputs["kind"] == "ResourceQuota")
    broken = as_manifest(namespace)
    broken["spec"]["hardd"] = broken["spec"].pop("hard")
    assert problems(broken, "1.36") and "hardd" in problems(broken, "1.36")[0]
    pool = as_manifest(plan_for("dev").of_type(NODE_POOL)[0])
    del pool["spec"]["template"]["spec"]["nodeClassRef"]["name"]
    assert problems(pool, "1.36") == ["NodePool gpu-small: missing spec.template.spec.nodeClassRef.name"]


def test_preview_labels_show_exposure_encryption_imds_and_scale_to_zero():
    dev, prod = plan_for("dev"), plan_for("prod")
    assert "PUBLIC endpoint from 198.51.100.0/24" in key_settings(cluster("dev"), dev)
    assert {"private endpoint", "secrets KMS", "5/5 log types", "deletion protection"} <= set(
        key_settings(cluster("prod"), prod)
    )
    template = prod.get("aws:ec2/launchTemplate:LaunchTemplate", "training-system-nodes")
    assert key_settings(template, prod) == ["IMDSv2 only", "hop limit 1", "EBS KMS"]
    pool = prod.get(NODE_POOL, "gpu-pool-gpu-large")
    assert key_settings(pool, prod) == [
        "p5.48xlarge",
        "on-demand",
        "≤ 64 GPUs",
        "taint nvidia.com/gpu:NoSchedule",
        "WhenEmptyOrUnderutilized after 30m",
    ]
    queue = prod.get("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", "tenancy-vision-cluster-queue")
    assert key_settings(queue, prod) == ["cohort gpu-training", "gpu-small: 16 GPUs (borrow ≤ 8)"]


def test_pull_request_summary_has_a_gpu_training_table():
    summary = markdown(plan_for("prod"))
    table = summary.split("#### GPU training", 1)[1].split("\n\n", 2)[1]
    assert "| cluster `training-cluster` | k8s 1.35, private endpoint, secrets KMS" in table
    assert "| pool `gpu-large` | p5.48xlarge, on-demand, ≤ 64 GPUs" in table
    assert "| team `nlp` | cohort gpu-training, gpu-large: 32 GPUs (borrow ≤ 0) |" in table


@pytest.mark.parametrize("stack", STACKS)
def test_every_training_role_carries_a_boundary_the_ci_deployer_may_attach(stack):
    plan = plan_for(stack)
    account = stack_config(stack)["mlops-platform:account"]
    prefix = f"mlops-platform-{stack}"
    service = f"arn:aws:iam::{account}:policy/{prefix}-service-boundary"
    persona = f"arn:aws:iam::{account}:policy/{prefix}-persona-boundary"
    roles = {
        r.name: r.inputs.get("permissionsBoundary")
        for r in plan.of_type("aws:iam/role:Role")
        if r.name.startswith(("training-", "gpu-", "tenancy-"))
    }
    teams = {f"tenancy-{t['name']}-training-role" for t in training_config(stack)["teams"]}
    assert {name for name, boundary in roles.items() if boundary == persona} == teams
    assert {name for name, boundary in roles.items() if boundary == service} == set(roles) - teams
    deployer = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "personas-ci-deployer-deploy-policy")))
    create = next(s for s in deployer if s["Sid"] == "CreateRolesOnlyWithBoundary")
    assert {service, persona} <= set(as_list(create["Condition"]["StringEquals"]["iam:PermissionsBoundary"]))


def test_service_boundary_lets_nodes_hand_out_pod_identity_credentials():
    plan = plan_for("dev")
    [boundary] = [p for p in plan.of_type("aws:iam/policy:Policy") if p.inputs["name"].endswith("-service-boundary")]
    allowed = {a for s in statements(policy(boundary)) if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    # AmazonEKSWorkerNodePolicy's eks-auth:AssumeRoleForPodIdentity is how the Pod Identity agent works.
    assert "eks-auth:*" in allowed and "eks:*" in allowed and "iam:PassRole" in allowed
