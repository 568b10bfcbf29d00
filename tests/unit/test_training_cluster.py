"""TrainingCluster: private API, KMS-encrypted secrets, all control-plane logs, access entries, add-ons via Pod
Identity, an IMDSv2-only system node group and a Kubernetes provider that authenticates with get-token."""

from __future__ import annotations

import functools
import json

import pytest
from mlops_platform.components.training import AccessPolicy, ClusterAccess, PolicyGrant, SystemNodes, TrainingCluster
from mlops_platform.components.training.cluster import CONTROL_PLANE_LOG_TYPES
from mlops_platform.infra.tooling.offline import record

from tests.conftest import policy, statements

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/abcd"
CLUSTER = "aws:eks/cluster:Cluster"
ENGINEER = f"arn:aws:iam::{ACCOUNT}:role/ml-engineer"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/p-dev-service-boundary"


def cluster_args(**overrides):
    return {
        "cluster_name": "p-dev-training",
        "kubernetes_version": "1.35",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "kms_key_arn": KEY,
        "discovery_tag": "p-dev",
        "permissions_boundary_arn": BOUNDARY,
        "access": [
            ClusterAccess(
                "ml-engineer",
                ENGINEER,
                (PolicyGrant(AccessPolicy.ADMIN_VIEW), PolicyGrant(AccessPolicy.EDIT, ("vision", "nlp"))),
            )
        ],
        **overrides,
    }


@functools.cache
def default_plan():
    return record(lambda: TrainingCluster("training", cluster_args()) and None)


def test_api_endpoint_is_private_unless_cidrs_are_listed():
    vpc = default_plan().get(CLUSTER, "training-cluster").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    opened = record(lambda: TrainingCluster("training", cluster_args(public_access_cidrs=["198.51.100.0/24"])) and None)
    vpc = opened.get(CLUSTER, "training-cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_secrets_are_envelope_encrypted_with_the_env_key_and_every_log_type_is_on():
    plan = default_plan()
    inputs = plan.get(CLUSTER, "training-cluster").inputs
    assert inputs["encryptionConfig"] == {"provider": {"keyArn": KEY}, "resources": ["secrets"]}
    assert (
        sorted(inputs["enabledClusterLogTypes"]) == sorted(CONTROL_PLANE_LOG_TYPES)
        and len(CONTROL_PLANE_LOG_TYPES) == 5
    )
    logs = plan.get("aws:cloudwatch/logGroup:LogGroup", "training-control-plane-logs").inputs
    assert (
        logs["name"] == "/aws/eks/p-dev-training/cluster" and logs["kmsKeyId"] == KEY and logs["retentionInDays"] == 90
    )
    kms = statements(policy(plan.get("aws:iam/rolePolicy:RolePolicy", "training-cluster-kms")))
    assert {s["Resource"] for s in kms} == {KEY}


def test_access_api_only_with_namespace_scoped_edit():
    plan = default_plan()
    assert plan.get(CLUSTER, "training-cluster").inputs["accessConfig"]["authenticationMode"] == "API"
    scopes = {
        r.inputs["policyArn"].rsplit("/", 1)[-1]: r.inputs["accessScope"]
        for r in plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert scopes == {
        "AmazonEKSAdminViewPolicy": {"type": "cluster"},
        "AmazonEKSEditPolicy": {"type": "namespace", "namespaces": ["vision", "nlp"]},
    }
    assert not plan.of_type("kubernetes:core/v1:ConfigMap")  # no aws-auth


def test_system_nodes_require_imdsv2_with_hop_limit_one_and_encrypted_root_volumes():
    template = default_plan().get("aws:ec2/launchTemplate:LaunchTemplate", "training-system-nodes").inputs
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    [mapping] = template["blockDeviceMappings"]
    assert mapping["ebs"]["encrypted"] == "true" and mapping["ebs"]["kmsKeyId"] == KEY
    group = default_plan().get("aws:eks/nodeGroup:NodeGroup", "training-system").inputs
    assert group["capacityType"] == "ON_DEMAND" and group["launchTemplate"]["id"] == "training-system-nodes-id"
    assert group["nodeRepairConfig"] == {"enabled": True}


def test_managed_addons_with_network_policy_enforcement_and_ebs_csi_via_pod_identity():
    plan = default_plan()
    addons = {r.inputs["addonName"]: r for r in plan.of_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    [association] = addons["aws-ebs-csi-driver"].inputs["podIdentityAssociations"]
    assert association["serviceAccount"] == "ebs-csi-controller-sa"
    assert association["roleArn"].endswith(":role/p-dev-training-ebs-csi")
    trust = statements(policy(plan.get("aws:iam/role:Role", "training-ebs-csi"), "assumeRolePolicy"))
    assert trust[0]["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust[0]["Condition"]["ArnEquals"] == {
        "aws:SourceArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/p-dev-training"
    }
    # The node group waits for the networking add-ons; CoreDNS waits for nodes.
    node_group = plan.get("aws:eks/nodeGroup:NodeGroup", "training-system")
    assert any(dep.endswith("training-addon-vpc-cni") for dep in node_group.options["depends_on"])
    assert any(dep.endswith("training-system") for dep in addons["coredns"].options["depends_on"])


def test_kubernetes_provider_uses_get_token_and_every_kubernetes_resource_uses_it():
    plan = default_plan()
    [provider] = plan.of_type("pulumi:providers:kubernetes")
    config = json.loads(provider.inputs["kubeconfig"])
    [user] = config["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "p-dev-training"]
    assert "token" not in json.dumps(user["user"]).replace("get-token", "")
    kubernetes = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert kubernetes and {r.provider for r in kubernetes} == {provider.name}


def test_cluster_security_group_carries_the_karpenter_discovery_tag():
    tag = default_plan().get("aws:ec2/tag:Tag", "training-sg-discovery").inputs
    assert tag["key"] == "karpenter.sh/discovery" and tag["value"] == "p-dev" and tag["resourceId"].startswith("sg-")


def test_default_storage_class_is_encrypted_with_the_env_key():
    sc = default_plan().get("kubernetes:storage.k8s.io/v1:StorageClass", "training-gp3-encrypted").inputs
    assert sc["parameters"] == {"type": "gp3", "encrypted": "true", "kmsKeyId": KEY}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"public_access_cidrs": ["0.0.0.0/0"]}, "never open to the whole internet"),
        ({"system_nodes": SystemNodes(min_size=3, desired_size=2)}, "min_size <= desired_size <= max_size"),
        ({"system_nodes": SystemNodes(instance_types=("m5.huge",))}, "['m5.huge'] are not EC2 instance types"),
        ({"system_nodes": SystemNodes(instance_types=("m6i.large", "m7g.large"))}, "mix arm64 and x86_64"),
        ({"system_nodes": SystemNodes(metadata_hop_limit=3)}, "metadata_hop_limit=3 must be 1 or 2"),
    ],
)
def test_bad_cluster_args_fail_before_anything_is_registered(overrides, message):
    errors = []

    def program():
        try:
            TrainingCluster("training", cluster_args(**overrides))
        except ValueError as exc:
            errors.append(str(exc))

    plan = record(program)
    assert message in errors[0] and plan.resources == []


def test_every_service_role_carries_the_given_boundary():
    roles = default_plan().of_type("aws:iam/role:Role")
    assert sorted(r.name for r in roles) == ["training-cluster-role", "training-ebs-csi", "training-system-node-role"]
    assert {r.inputs["permissionsBoundary"] for r in roles} == {BOUNDARY}
