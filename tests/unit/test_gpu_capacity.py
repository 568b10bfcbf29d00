"""GpuCapacity: Karpenter's IAM scoped to the cluster, its interruption queue, and GPU NodePools that are
tainted, GPU-limited, IMDSv2-only, KMS-encrypted and consolidated to zero."""

from __future__ import annotations

import functools

import pulumi
import pulumi_kubernetes as k8s
import pytest
from mlops_platform.components.training import CapacityType, GpuCapacity, GpuPool
from mlops_platform.components.training.capacity import INTERRUPTION_EVENTS
from mlops_platform.infra.tooling.offline import record

from tests.conftest import as_list, policy, statements
from tests.k8s import crd_problems

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/p-dev-training"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
READ_PREFIXES = ("Describe", "Get", "List")

POOLS = (
    GpuPool("small", 16, instance_families=("g5", "g6"), capacity_types=(CapacityType.SPOT, CapacityType.ON_DEMAND)),
    GpuPool("large", 64, instance_types=("p5.48xlarge",), efa=True, zones=("us-east-1a",), consolidate_after="30m"),
)


def capacity(pools=POOLS, **overrides):
    provider = k8s.Provider("k8s", kubeconfig="{}")
    return GpuCapacity(
        "gpu",
        {
            "cluster_name": "p-dev-training",
            "cluster_arn": CLUSTER_ARN,
            "cluster_endpoint": "https://example.eks.amazonaws.com",
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "kms_key_arn": KEY,
            "discovery_tag": "p-dev",
            "permissions_boundary_arn": f"arn:aws:iam::{ACCOUNT}:policy/p-dev-service-boundary",
            "k8s_provider": provider,
            "pools": list(pools),
            **overrides,
        },
        pulumi.ResourceOptions(),
    )


@functools.cache
def default_plan():
    return record(lambda: capacity() and None)


def pool_spec(name):
    return default_plan().get(NODE_POOL, f"gpu-pool-{name}").inputs["spec"]


def test_gpu_nodes_are_tainted_limited_and_consolidated_to_zero():
    for name, limit in (("small", "16"), ("large", "64")):
        spec = pool_spec(name)
        assert spec["template"]["spec"]["taints"] == [
            {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
        ]
        assert spec["limits"] == {"nvidia.com/gpu": limit}
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert pool_spec("large")["disruption"]["consolidateAfter"] == "30m"


def test_requirements_carry_families_types_capacity_and_zone():
    small = {r["key"]: r["values"] for r in pool_spec("small")["template"]["spec"]["requirements"]}
    assert small["karpenter.k8s.aws/instance-family"] == ["g5", "g6"]
    assert small["karpenter.sh/capacity-type"] == ["spot", "on-demand"]
    assert small["kubernetes.io/arch"] == ["amd64"]
    large = {r["key"]: r["values"] for r in pool_spec("large")["template"]["spec"]["requirements"]}
    assert large["node.kubernetes.io/instance-type"] == ["p5.48xlarge"]
    assert large["karpenter.sh/capacity-type"] == ["on-demand"]
    assert large["topology.kubernetes.io/zone"] == ["us-east-1a"]


def test_node_classes_use_al2023_imdsv2_encrypted_volumes_and_discovery_tags():
    plan = default_plan()
    classes = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in plan.of_type(NODE_CLASS)}
    assert set(classes) == {"gpu", "large-efa"}
    for spec in classes.values():
        assert spec["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        [volume] = spec["blockDeviceMappings"]
        assert volume["ebs"]["encrypted"] is True and volume["ebs"]["kmsKeyID"] == KEY
        assert volume["ebs"]["volumeType"] == "gp3"
        assert (
            spec["subnetSelectorTerms"]
            == spec["securityGroupSelectorTerms"]
            == [{"tags": {"karpenter.sh/discovery": "p-dev"}}]
        )
    placement = plan.get("aws:ec2/placementGroup:PlacementGroup", "gpu-large-placement").inputs
    assert placement["strategy"] == "cluster"
    assert classes["large-efa"]["placementGroupSelector"] == {"name": placement["name"]}
    assert "placementGroupSelector" not in classes["gpu"]
    efa = plan.get("kubernetes:helm.sh/v3:Release", "gpu-efa-device-plugin").inputs
    assert efa["chart"] == "aws-efa-k8s-device-plugin" and efa["values"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    without_efa = record(lambda: capacity(POOLS[:1]) and None)
    assert not without_efa.of_type("aws:ec2/placementGroup:PlacementGroup")
    assert [r.name for r in without_efa.of_type("kubernetes:helm.sh/v3:Release")] == [
        "gpu-karpenter",
        "gpu-karpenter-crd",
        "gpu-nvidia-device-plugin",
    ]


def test_custom_resources_have_required_fields_and_wait_for_the_chart():
    plan = default_plan()
    for resource in plan.of_type(NODE_POOL) + plan.of_type(NODE_CLASS):
        assert crd_problems(resource.inputs) == []
        assert any(dep.endswith("gpu-karpenter") for dep in resource.options["depends_on"])


def test_controller_writes_are_scoped_no_wildcard_action_and_no_star_resource_on_writes():
    doc = policy(default_plan().get("aws:iam/rolePolicy:RolePolicy", "gpu-controller-policy"))
    for statement in statements(doc):
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), statement["Sid"]
        writes = [a for a in actions if not a.split(":")[1].startswith(READ_PREFIXES)]
        if writes and statement["Sid"] != "AllowPricingReadActions":
            assert "*" not in as_list(statement["Resource"]), statement["Sid"]
    by_sid = {s["Sid"]: s for s in statements(doc)}
    assert by_sid["AllowScopedDeletion"]["Condition"]["StringEquals"] == {
        "aws:ResourceTag/kubernetes.io/cluster/p-dev-training": "owned"
    }
    assert by_sid["AllowPassingInstanceRole"]["Resource"].endswith(":role/p-dev-training-karpenter-node")


def test_controller_role_trusts_only_its_service_account_through_pod_identity():
    plan = default_plan()
    boundaries = {r.inputs["permissionsBoundary"] for r in plan.of_type("aws:iam/role:Role")}
    assert boundaries == {f"arn:aws:iam::{ACCOUNT}:policy/p-dev-service-boundary"}
    [trust] = statements(policy(plan.get("aws:iam/role:Role", "gpu-controller-role"), "assumeRolePolicy"))
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "karpenter"
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": CLUSTER_ARN}
    association = plan.get("aws:eks/podIdentityAssociation:PodIdentityAssociation", "gpu-controller-identity").inputs
    assert (association["namespace"], association["serviceAccount"]) == ("kube-system", "karpenter")


def test_interruption_queue_is_encrypted_fed_by_four_rules_and_tls_only():
    plan = default_plan()
    queue = plan.get("aws:sqs/queue:Queue", "gpu-interruptions").inputs
    assert queue["sqsManagedSseEnabled"] is True
    rules = plan.of_type("aws:cloudwatch/eventRule:EventRule")
    assert len(rules) == len(INTERRUPTION_EVENTS) == 4
    doc = statements(policy(plan.get("aws:sqs/queuePolicy:QueuePolicy", "gpu-interruptions-policy")))
    allow = next(s for s in doc if s["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert len(allow["Condition"]["ArnEquals"]["aws:SourceArn"]) == 4
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in doc)
    assert {t.inputs["arn"] for t in plan.of_type("aws:cloudwatch/eventTarget:EventTarget")} == {
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:p-dev-training-karpenter"
    }


def test_node_role_joins_as_ec2_linux_and_karpenter_chart_is_pinned():
    plan = default_plan()
    entry = plan.get("aws:eks/accessEntry:AccessEntry", "gpu-node-access").inputs
    assert entry["type"] == "EC2_LINUX" and entry["principalArn"].endswith(":role/p-dev-training-karpenter-node")
    release = plan.get("kubernetes:helm.sh/v3:Release", "gpu-karpenter").inputs
    assert release["chart"] == "oci://public.ecr.aws/karpenter/karpenter" and release["version"].count(".") == 2
    crds = plan.get("kubernetes:helm.sh/v3:Release", "gpu-karpenter-crd")
    assert crds.inputs["chart"] == "oci://public.ecr.aws/karpenter/karpenter-crd"
    assert crds.inputs["version"] == release["version"] and release["skipCrds"] is True
    assert crds.urn in plan.get("kubernetes:helm.sh/v3:Release", "gpu-karpenter").options["depends_on"]
    assert release["values"]["settings"]["interruptionQueue"] == "p-dev-training-karpenter"
    plugin = plan.get("kubernetes:helm.sh/v3:Release", "gpu-nvidia-device-plugin").inputs
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in plugin["values"]["tolerations"]


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        ((GpuPool("cpu", 8, instance_families=("m5",)),), "'m5' has no NVIDIA GPU"),
        ((GpuPool("cpu", 8, instance_types=("c5.xlarge",)),), "'c5.xlarge' has no NVIDIA GPU"),
        ((GpuPool("typo", 8, instance_types=("g5.huge",)),), "'g5.huge' is not an EC2 instance type"),
        ((GpuPool("mixed", 8, instance_families=("g5", "g5g")),), "mixes arm64 and amd64"),
        ((GpuPool("efa", 8, instance_families=("g6",), efa=True, zones=("us-east-1a",)),), "EFA pool 'efa' needs"),
        ((GpuPool("a", 8, instance_families=("g6",)), GpuPool("a", 8, instance_families=("g5",))), "unique"),
    ],
)
def test_bad_pools_fail_before_anything_is_registered(pools, message):
    errors = []

    def program():
        try:
            capacity(pools)
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert message in errors[0]
    assert [r.type for r in plan.resources] == ["pulumi:providers:kubernetes"]


def test_a_cluster_name_too_long_for_aws_names_fails_early():
    errors = []

    def program():
        try:
            capacity(cluster_arn=CLUSTER_ARN.replace("p-dev-training", "a-very-long-organisation-prefix-prod-training"))
        except ValueError as exc:
            errors.append(str(exc))

    record(program)
    assert "longer than 64 characters" in errors[0]
